/**
 * Shared storage suite, lifecycle: deletion, the rejected store, stats, persistence across a
 * reopen, a query during a write, readiness and close.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { canonical, labels, rec, T0 } from './records.ts';
import { counts, DUPLICATE, plainRejected, type SuiteContext } from './suite-context.ts';

/** Registers the lifecycle tests. */
export function lifecycleTests(t: SuiteContext): void {
  it('deletes old records in chunks of the given limit, one kind only', async () => {
    const events = Array.from({ length: 25 }, (_, i) =>
      rec('event', 'ev', { cluster: 'c', label: `d${i}` }, 'x', T0 + BigInt(i)),
    );
    const logs = [0n, 1n, 2n].map((i) =>
      rec('log', 'lg', { cluster: 'c', label: `g${i}` }, 'y', T0 + i),
    );
    await t.writeAll(events);
    await t.writeAll(logs);
    const chunks: number[] = [];
    for (let n = -1; n !== 0;)
      chunks.push((n = await t.storage().deleteBefore('event', T0 + 21n, 7)));
    assert.deepEqual(chunks, [7, 7, 7, 0]);
    assert.deepEqual(labels(await t.query({})), ['d21', 'd22', 'd23', 'd24']);
    assert.deepEqual(labels(await t.query({ kind: 'log' })), ['g0', 'g1', 'g2']);
    assert.equal(await t.storage().deleteBefore('log', T0 + 2n, 100), 2);
    assert.deepEqual(labels(await t.query({ kind: 'log' })), ['g2']);
    assert.deepEqual(await counts(t.storage()), { events: 4, logs: 1, rejected: 0 });
    // The earliest storable time (retention longer than that clamps to it) deletes nothing.
    assert.equal(await t.storage().deleteBefore('event', -(2n ** 63n), 100), 0);
    assert.equal(await t.storage().pruneRejected(10, -(2n ** 63n)), 0);
  });

  it('keeps, lists, pages and prunes rejected input', async () => {
    await t.storage().writeRejected([
      {
        raw: 'bad line',
        reason: 'syntax',
        source: 'receiver:http',
        line: 3,
        column: 7,
        receivedAt: 100n,
      },
      {
        raw: "x'; DROP TABLE rejected; --",
        reason: 'no_cluster',
        source: 'api:write',
        receivedAt: 200n,
      },
    ]);
    await t.storage().writeRejected([
      {
        raw: 'ünïcode\ttab',
        reason: 'storage',
        source: 'receiver:nats',
        line: 1,
        receivedAt: 300n,
      },
    ]);
    const all = await t.storage().listRejected(10);
    assert.deepEqual(all.map(plainRejected), [
      {
        raw: 'ünïcode\ttab',
        reason: 'storage',
        source: 'receiver:nats',
        line: 1,
        column: undefined,
        receivedAt: 300n,
      },
      {
        raw: "x'; DROP TABLE rejected; --",
        reason: 'no_cluster',
        source: 'api:write',
        line: undefined,
        column: undefined,
        receivedAt: 200n,
      },
      {
        raw: 'bad line',
        reason: 'syntax',
        source: 'receiver:http',
        line: 3,
        column: 7,
        receivedAt: 100n,
      },
    ]);
    assert.deepEqual(
      all.map((r) => typeof r.id),
      ['bigint', 'bigint', 'bigint'],
    );
    assert.ok(all[0]!.id > all[1]!.id && all[1]!.id > all[2]!.id, 'ids grow with writes');
    const first = await t.storage().listRejected(2);
    assert.deepEqual(
      first.map((r) => r.id),
      [all[0]!.id, all[1]!.id],
    );
    assert.deepEqual(
      (await t.storage().listRejected(2, first[1]!.id)).map((r) => r.id),
      [all[2]!.id],
    );

    assert.equal(await t.storage().pruneRejected(2, 0n), 1);
    assert.deepEqual(
      (await t.storage().listRejected(10)).map((r) => r.receivedAt),
      [300n, 200n],
    );
    assert.equal(await t.storage().pruneRejected(100, 250n), 1);
    assert.deepEqual(
      (await t.storage().listRejected(10)).map((r) => r.receivedAt),
      [300n],
    );
    assert.equal((await t.storage().stats()).rejected, 1);
  });

  it('counts events, logs and rejected input in stats', async () => {
    assert.deepEqual(await counts(t.storage()), { events: 0, logs: 0, rejected: 0 });
    await t.writeFixture();
    await t.storage().writeRejected([{ raw: 'r', reason: 'syntax', source: 's', receivedAt: 1n }]);
    const stats = await t.storage().stats();
    assert.deepEqual(await counts(t.storage()), { events: 6, logs: 5, rejected: 1 });
    if (stats.bytes !== undefined) assert.ok(stats.bytes > 0, `bytes ${stats.bytes}`);
  });

  it('keeps everything across a close and reopen', async () => {
    const { events, logs } = await t.writeFixture();
    await t.storage().writeRejected([{ raw: 'r', reason: 'syntax', source: 's', receivedAt: 5n }]);
    const before = await t.query({});
    const beforeLogs = await t.query({ kind: 'log' });
    await t.reopen();
    const after = await t.query({});
    assert.deepEqual(after.records.map(canonical), events.map(canonical));
    assert.deepEqual(
      after.records.map((r) => r.id),
      before.records.map((r) => r.id),
    );
    assert.deepEqual((await t.query({ kind: 'log' })).records.map(canonical), logs.map(canonical));
    assert.deepEqual(
      (await t.query({ kind: 'log' })).records.map((r) => r.id),
      beforeLogs.records.map((r) => r.id),
    );
    assert.deepEqual(await t.storage().write(events.slice(0, 2)), [DUPLICATE, DUPLICATE]);
    assert.deepEqual(await counts(t.storage()), { events: 6, logs: 5, rejected: 1 });
    const extra = rec('event', 'late', { cluster: 'c', label: 'z' }, 'after reopen', T0 + 9n);
    await t.writeAll([extra]);
    const newest = (await t.query({ order: 'desc', limit: 1 })).records[0]!;
    assert.equal(newest.tags.label, 'z');
    assert.ok(newest.id > after.records.reduce((m, r) => (r.id > m ? r.id : m), 0n), 'new id');
  });

  it('answers a query that runs during a write with all or none of the batch', async () => {
    const records = Array.from({ length: 2000 }, (_, i) =>
      rec('event', 'ev', { cluster: 'c', hostname: `node${i % 10}` }, `p${i}`, T0 + BigInt(i)),
    );
    const writing = t.storage().write(records);
    const during = await t.query({ limit: 5000 });
    assert.ok([0, 2000].includes(during.records.length), `saw ${during.records.length}`);
    assert.equal((await writing).length, 2000);
    assert.equal((await t.query({ limit: 5000 })).records.length, 2000);
  });

  it('reports ready while open and closes idempotently', async () => {
    const storage = t.storage();
    if (storage.ready) assert.equal(await storage.ready(), true);
    const first = storage.close();
    const second = storage.close();
    assert.equal(second, first);
    await first;
  });
}
