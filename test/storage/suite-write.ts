/**
 * Shared storage suite, writing: exact read-back, times, bad records, duplicates, SQL-looking
 * values.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Uint } from '../../core/message.ts';
import { canonical, labels, rec, T0 } from './records.ts';
import { counts, DUPLICATE, STORED, type SuiteContext } from './suite-context.ts';

/** Registers the write tests. */
export function writeTests(t: SuiteContext): void {
  it('reads back exactly what was written: tags, payload bytes, extra fields, ids', async () => {
    const big = `{"script":"${'#!/bin/bash\\necho ünï 日本 😀\\t'.repeat(3000)}"}`;
    assert.ok(big.length > 80_000, `payload of ${big.length} chars`);
    const records = [
      rec(
        'event',
        'job',
        { cluster: 'testcluster', hostname: 'node001', 'type-id': '0' },
        '{"jobId":1,"user":"user001"}',
        T0,
        {
          count: 12n,
          ratio: 0.5,
          ok: true,
          note: 'a "quoted" \\ note',
          big: new Uint(18446744073709551615n),
        },
      ),
      rec(
        'event',
        'weird name, with=chars',
        {
          cluster: 'clüster b',
          'we,ird=key': 'va,l=ue x',
          'quote"key': 'back\\slash',
          ünï: '日本',
          ['__proto__']: 'p',
          dotted: 'a.b',
          'sp ace': ' ',
        },
        'line1\nline2\r\nquote " backslash \\ emoji 😀 tab\there',
        T0 + 1n,
      ),
      rec('event', 'big', { cluster: 'c' }, big, T0 + 2n),
      rec(
        'log',
        'ccb',
        { cluster: 'testcluster', loglevel: 'ERROR' },
        'panic: index out of range\n\tat main.go:1',
        T0,
      ),
      rec('log', 'empty', { cluster: 'testcluster' }, '', T0 + 3n),
    ];
    await t.writeAll(records);
    const events = await t.query({});
    assert.deepEqual(events.records.map(canonical), records.slice(0, 3).map(canonical));
    assert.equal(events.records[2]!.payload, big);
    assert.deepEqual(
      (await t.query({ kind: 'log' })).records.map(canonical),
      records.slice(3).map(canonical),
    );
    const ids = events.records.map((r) => r.id);
    assert.deepEqual(
      ids.map((id) => typeof id),
      ['bigint', 'bigint', 'bigint'],
    );
    assert.ok(ids[0]! < ids[1]! && ids[1]! < ids[2]!, 'ids increase in write order');
    assert.equal(events.records[0]!.extra!.count, 12);
    assert.equal(events.records[0]!.jobId, '1');
    const byOddTag = await t.query({ tags: { 'quote"key': 'back\\slash', ['__proto__']: 'p' } });
    assert.deepEqual(byOddTag.records.map(canonical), [canonical(records[1]!)]);
  });

  it('keeps ns times exactly: negative, zero, far future and int64 max', async () => {
    const times = [
      -9_000_000_000_000_000_000n,
      -1_000_000_001n,
      0n,
      1n,
      T0 + 999_999_999n,
      9_000_000_000_000_000_000n,
      2n ** 63n - 1n,
    ];
    const records = times.map((t, i) =>
      rec('event', 'ev', { cluster: 'c', label: `t${i}` }, 'x', t),
    );
    await t.writeAll(records);
    assert.deepEqual(
      (await t.query({})).records.map((r) => r.time),
      times,
    );
    assert.deepEqual(
      (await t.query({ from: -1_000_000_001n, to: 1n })).records.map((r) => r.time),
      [-1_000_000_001n, 0n],
    );
    assert.deepEqual(
      (await t.query({ from: 9_000_000_000_000_000_000n })).records.map((r) => r.time),
      times.slice(5),
    );
  });

  it('rejects only the record whose time does not fit 64 bits', async () => {
    const good = rec('event', 'ev', { cluster: 'c', label: 'good' }, 'x', T0);
    const bad = rec('event', 'ev', { cluster: 'c', label: 'bad' }, 'x', 2n ** 63n);
    const later = rec('event', 'ev', { cluster: 'c', label: 'good' }, 'x', T0 + 1n);
    const outcomes = await t.storage().write([good, bad, later]);
    assert.deepEqual(outcomes[0], STORED);
    assert.equal(outcomes[1]!.status, 'rejected');
    assert.deepEqual(outcomes[2], STORED);
    assert.deepEqual(labels(await t.query({})), ['good', 'good']);
  });

  it('stores NUL and TAB in a payload, or rejects that record alone', async () => {
    const before = rec('log', 'lg', { cluster: 'c', label: 'a' }, 'before', T0);
    const nul = rec('log', 'lg', { cluster: 'c', label: 'nul' }, 'nul\u0000inside\ttab', T0 + 1n);
    const tab = rec('log', 'lg', { cluster: 'c', label: 'tab' }, 'only\ttab', T0 + 2n);
    const outcomes = await t.storage().write([before, nul, tab]);
    assert.deepEqual(outcomes[0], STORED);
    assert.deepEqual(outcomes[2], STORED);
    const page = await t.query({ kind: 'log' });
    if (outcomes[1]!.status === 'stored') {
      assert.deepEqual(page.records.map(canonical), [before, nul, tab].map(canonical));
    } else {
      assert.equal(outcomes[1]!.status, 'rejected');
      assert.deepEqual(page.records.map(canonical), [before, tab].map(canonical));
    }
  });

  it('stores and matches SQL-looking values literally', async () => {
    const inj = "'; DROP TABLE events; --";
    const records = [
      rec(
        'event',
        'events; --',
        {
          cluster: inj,
          hostname: "' OR '1'='1",
          "x'); DROP TABLE logs; --": "1' OR '1'='1",
          label: 'i1',
        },
        "Robert'); DROP TABLE events;-- 100%",
        T0,
      ),
      rec('event', 'ev', { cluster: 'c', hostname: 'node001', label: 'i2' }, 'harmless', T0 + 1n),
      rec('log', 'lg', { cluster: inj, label: 'i3' }, inj, T0),
    ];
    await t.writeAll(records);
    assert.deepEqual(labels(await t.query({ clusters: [inj] })), ['i1']);
    assert.deepEqual(labels(await t.query({ hostnames: ["' OR '1'='1"] })), ['i1']);
    assert.deepEqual(labels(await t.query({ hostnames: ["node001' OR '1'='1"] })), []);
    assert.deepEqual(labels(await t.query({ names: ['events; --'] })), ['i1']);
    assert.deepEqual(
      labels(await t.query({ tags: { "x'); DROP TABLE logs; --": "1' OR '1'='1" } })),
      ['i1'],
    );
    assert.deepEqual(labels(await t.query({ text: "'); DROP TABLE events;--" })), ['i1']);
    assert.deepEqual(labels(await t.query({ kind: 'log', text: inj })), ['i3']);
    assert.deepEqual(labels(await t.query({ jobId: "' OR 1=1 --" })), []);
    assert.deepEqual(await counts(t.storage()), { events: 2, logs: 1, rejected: 0 });
  });
  it('stores a record once: duplicates within a batch and across batches', async () => {
    const a = rec('event', 'ev', { cluster: 'c', label: 'a' }, 'same', T0);
    const b = rec('event', 'ev', { cluster: 'c', label: 'b' }, 'same', T0);
    const aLater = rec('event', 'ev', { cluster: 'c', label: 'a' }, 'same', T0 + 1n);
    const aOtherPayload = rec('event', 'ev', { cluster: 'c', label: 'a' }, 'other', T0);
    assert.deepEqual(await t.storage().write([a, a, b]), [STORED, DUPLICATE, STORED]);
    assert.deepEqual(await t.storage().write([b, aLater, a, aOtherPayload]), [
      DUPLICATE,
      STORED,
      DUPLICATE,
      STORED,
    ]);
    assert.deepEqual(
      (await t.query({})).records.map(canonical),
      [a, b, aOtherPayload, aLater].map(canonical),
    );
    assert.equal((await t.storage().stats()).events, 4);
  });
}
