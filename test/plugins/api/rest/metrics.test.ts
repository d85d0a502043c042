import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair } from 'jose';
import { readSample } from '../../../helpers/samples.ts';
import { makeApi, type ApiFixture } from './fixture.ts';

/** The value of one sample line of a scrape, exactly as written. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  let f: ApiFixture;
  const post = (name: string) =>
    f.app.inject({ method: 'POST', url: '/api/write', payload: readSample(name) });
  const scrape = async () => {
    const res = await f.app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    return res.body;
  };

  before(async () => {
    f = await makeApi();
    assert.equal((await post('job-events.lp')).statusCode, 204);
    assert.equal((await post('malformed.lp')).statusCode, 400);
    assert.equal((await post('mixed-types.lp')).statusCode, 204);
    assert.equal((await post('job-events.lp')).statusCode, 204);
  });
  after(() => f.close());

  it('counts received, stored, duplicates, rejected by reason and skipped per scope', async () => {
    const text = await scrape();
    const expected: Record<string, number> = {
      'cces_received_total{scope="api"}': 9 + 13 + 12 + 9,
      'cces_stored_total{scope="api"}': 26,
      'cces_duplicates_total{scope="api"}': 9,
      'cces_rejected_total{scope="api",reason="syntax"}': 13,
      'cces_skipped_total{scope="api",type="metric"}': 3,
      'cces_skipped_total{scope="api",type="control"}': 2,
      'cces_skipped_total{scope="api",type="query"}': 1,
      'cces_skipped_total{scope="api",type="other"}': 2,
      'cces_stored_total{scope="storage"}': 26,
      'cces_duplicates_total{scope="storage"}': 9,
      'cces_stat{scope="storage",name="rejected_kept"}': 13,
      cces_queue_depth: 0,
      'cces_storage_records{kind="event"}': 25,
      'cces_storage_records{kind="log"}': 1,
      'cces_storage_records{kind="rejected"}': 13,
    };
    for (const [series, value] of Object.entries(expected)) {
      assert.equal(sample(text, series), value, series);
    }
    assert.ok(sample(text, 'cces_storage_bytes')! > 0);
    assert.match(text, /^# TYPE cces_received_total counter$/m);
    assert.match(text, /^# TYPE cces_commit_duration_seconds histogram$/m);
  });

  it('observes every commit: batch sizes sum to the records written, one latency each', async () => {
    const text = await scrape();
    const batches = f.stats.get('storage', 'batches');
    assert.ok(batches >= 4);
    assert.equal(sample(text, 'cces_batch_size_sum'), 26 + 9);
    assert.equal(sample(text, 'cces_batch_size_count'), batches);
    assert.equal(sample(text, 'cces_commit_duration_seconds_count'), batches);
    assert.ok(sample(text, 'cces_commit_duration_seconds_sum')! > 0);
  });

  it('observes query latency per route and status class', async () => {
    assert.equal((await f.app.inject({ url: '/api/v1/events?limit=3' })).statusCode, 200);
    assert.equal((await f.app.inject({ url: '/api/v1/events?order=asc' })).statusCode, 200);
    assert.equal((await f.app.inject({ url: '/api/v1/logs?from=x' })).statusCode, 400);
    const text = await scrape();
    const events = 'cces_query_duration_seconds_count{route="/api/v1/events",status="2xx"}';
    assert.equal(sample(text, events), 2);
    const logs = 'cces_query_duration_seconds_count{route="/api/v1/logs",status="4xx"}';
    assert.equal(sample(text, logs), 1);
  });

  it('keeps its own registry: a second API in the process counts apart', async () => {
    const g = await makeApi();
    try {
      const res = await g.app.inject({ url: '/metrics' });
      assert.equal(sample(res.body, 'cces_received_total{scope="api"}'), undefined);
      assert.equal(sample(res.body, 'cces_storage_records{kind="event"}'), 0);
    } finally {
      await g.close();
    }
  });
});

describe('GET /metrics: retention deletes and auth', () => {
  it('counts rows deleted by retention per kind', async () => {
    const f = await makeApi({ retentionTime: '1h' });
    try {
      assert.equal(
        (
          await f.app.inject({
            method: 'POST',
            url: '/api/write',
            payload: readSample('job-events.lp'),
          })
        ).statusCode,
        204,
      );
      await f.manager.runRetention();
      const text = (await f.app.inject({ url: '/metrics' })).body;
      assert.equal(sample(text, 'cces_retention_deleted_total{kind="events"}'), 9);
      assert.equal(sample(text, 'cces_storage_records{kind="event"}'), 0);
    } finally {
      await f.close();
    }
  });

  it('needs a token when auth is on', async () => {
    const { publicKey } = await generateKeyPair('EdDSA');
    const raw = Buffer.from((await exportJWK(publicKey)).x!, 'base64url').toString('base64');
    const f = await makeApi({ jwtPublicKey: raw });
    try {
      const res = await f.app.inject({ url: '/metrics' });
      assert.equal(res.statusCode, 401);
      assert.equal(res.json().code, 'CCES_ERR_AUTH_MISSING');
    } finally {
      await f.close();
    }
  });
});
