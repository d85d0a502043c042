import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readSample } from '../../../helpers/samples.ts';
import { makeApi, type ApiFixture } from './fixture.ts';

describe('GET /api/stats/, /api/v1/rejected, /healthz and /readyz', () => {
  let f: ApiFixture;
  const post = (name: string) =>
    f.app.inject({ method: 'POST', url: '/api/write', payload: readSample(name) });

  before(async () => {
    f = await makeApi();
    assert.equal((await post('job-events.lp')).statusCode, 204);
    assert.equal((await post('malformed.lp')).statusCode, 400);
    assert.equal((await post('mixed-types.lp')).statusCode, 204);
  });
  after(() => f.close());

  it('shows the counters of the API scope, the storage, the queue depth and the database size', async () => {
    for (const url of ['/api/stats/', '/api/stats']) {
      const res = await f.app.inject({ url });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.equal(body.queue_depth, 0);
      assert.deepEqual(
        { ...body.database, bytes: undefined },
        { events: 9 + 13 + 3, logs: 1, rejected: 13, bytes: undefined },
      );
      assert.ok(body.database.bytes > 0);
      assert.deepEqual(body.api, {
        received: 9 + 13 + 12,
        stored: 9 + 13 + 4,
        rejected: 13,
        rejected_syntax: 13,
        skipped_metric: 3,
        skipped_control: 2,
        skipped_query: 1,
        skipped_other: 2,
      });
      assert.equal(body.storage.stored, 26);
      assert.equal(body.storage.rejected_kept, 13);
      assert.equal(body.storage.queue_depth, 0);
    }
  });

  it('lists the rejected store newest first and pages through it with the cursor', async () => {
    const first = await f.app.inject({ url: '/api/v1/rejected?limit=5' });
    assert.equal(first.statusCode, 200);
    const page = first.json();
    assert.equal(page.items.length, 5);
    const { id, received_at, rfc3339, ...newest } = page.items[0];
    assert.match(id, /^[0-9]+$/);
    assert.match(received_at, /^[0-9]{19}$/);
    assert.match(rfc3339, /^20\d\d-\d\d-\d\dT/);
    assert.deepEqual(newest, {
      raw: 'note,cluster=testcluster,hostname=node001 event="{\\"jobId\\":1 1735732902000000000',
      reason: 'syntax: expected closing quote',
      source: 'api',
      line: 40,
      column: 49,
    });

    const lines: number[] = page.items.map((i: { line: number }) => i.line);
    let cursor: string | null = page.next_cursor;
    while (cursor !== null) {
      const res = await f.app.inject({ url: `/api/v1/rejected?limit=5&cursor=${cursor}` });
      const body = res.json();
      lines.push(...body.items.map((i: { line: number }) => i.line));
      cursor = body.next_cursor;
    }
    assert.deepEqual(lines, [40, 36, 33, 30, 27, 24, 21, 18, 15, 12, 9, 6, 3]);

    const bad = await f.app.inject({ url: '/api/v1/rejected?cursor=abc' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'CCES_ERR_QUERY_INVALID');
  });

  it('answers /healthz and /readyz; /readyz is 503 once storage takes no writes', async () => {
    const alive = await f.app.inject({ url: '/healthz' });
    assert.deepEqual([alive.statusCode, alive.json()], [200, { status: 'ok' }]);
    const ready = await f.app.inject({ url: '/readyz' });
    assert.deepEqual([ready.statusCode, ready.json()], [200, { status: 'ready' }]);

    await f.manager.close();
    const closed = await f.app.inject({ url: '/readyz' });
    assert.equal(closed.statusCode, 503);
    assert.equal(closed.headers['retry-after'], '5');
    assert.deepEqual(closed.json(), {
      code: 'CCES_ERR_STORAGE_UNAVAILABLE',
      message: 'storage cannot take writes now',
    });
    assert.equal((await f.app.inject({ url: '/healthz' })).statusCode, 200);
  });
});
