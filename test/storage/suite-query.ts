/**
 * Shared storage suite, querying: every filter, order, kinds, keyset pagination.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StorageQuery } from '../../core/contracts/storage.ts';
import type { EventRecord } from '../../core/record.ts';
import { labels, rec, RECEIVED, T0 } from './records.ts';
import type { SuiteContext } from './suite-context.ts';

/** Registers the query tests. */
export function queryTests(t: SuiteContext): void {
  const cases: Array<[string, Partial<StorageQuery>, string[]]> = [
    ['no filter', {}, ['e1', 'e2', 'e3', 'e4', 'e5', 'e6']],
    ['desc order, ties by id', { order: 'desc' }, ['e6', 'e5', 'e4', 'e3', 'e2', 'e1']],
    ['one cluster', { clusters: ['clusterb'] }, ['e3', 'e5', 'e6']],
    [
      'two clusters',
      { clusters: ['testcluster', 'clusterb'] },
      ['e1', 'e2', 'e3', 'e4', 'e5', 'e6'],
    ],
    ['unknown cluster', { clusters: ['nope'] }, []],
    ['hostname', { hostnames: ['node001'] }, ['e1', 'e3', 'e6']],
    ['hostnames', { hostnames: ['node002', 'ctrl01'] }, ['e2', 'e4']],
    ['cluster and hostname', { clusters: ['testcluster'], hostnames: ['node001'] }, ['e1']],
    ['name', { names: ['alert'] }, ['e4', 'e6']],
    ['type', { types: ['socket'] }, ['e3']],
    ['type-id', { typeIds: ['1'] }, ['e3', 'e4']],
    ['stype', { stypes: ['core'] }, ['e3', 'e4']],
    ['stype-id', { stypeIds: ['4'] }, ['e4']],
    ['function', { functions: ['start_job'] }, ['e1', 'e5']],
    ['one tag', { tags: { partition: 'batch' } }, ['e4']],
    ['two tags', { tags: { hostname: 'node001', type: 'socket' } }, ['e3']],
    ['tag value is exact', { tags: { partition: 'BATCH' } }, []],
    ['text, case-insensitive', { text: 'failed' }, ['e3']],
    ['text with %', { text: '50%' }, ['e3']],
    ['text % is literal', { text: '%' }, ['e3']],
    ['text _ is literal', { text: '_alert' }, ['e6']],
    ['text _ alone', { text: '_' }, ['e3', 'e6']],
    ['jobId number', { jobId: '4711' }, ['e1', 'e2']],
    ['jobId string', { jobId: 'abc' }, ['e5']],
    ['from inclusive, to exclusive', { from: T0 + 2n, to: T0 + 5n }, ['e2', 'e3', 'e4']],
    ['from and to equal', { from: T0 + 3n, to: T0 + 3n }, []],
    ['from only, desc, limit', { from: T0 + 2n, order: 'desc', limit: 2 }, ['e6', 'e5']],
    [
      'combined',
      {
        clusters: ['clusterb'],
        names: ['job', 'alert'],
        hostnames: ['node001', 'node003'],
        from: T0 + 5n,
      },
      ['e5', 'e6'],
    ],
    ['loglevel from loglevel tag', { kind: 'log', loglevels: ['error'] }, ['l1']],
    ['loglevel case-insensitive', { kind: 'log', loglevels: ['WARN'] }, ['l2']],
    [
      'loglevel falls back to level; loglevel wins',
      { kind: 'log', loglevels: ['info'] },
      ['l3', 'l4'],
    ],
    ['loglevels', { kind: 'log', loglevels: ['error', 'warn'] }, ['l1', 'l2']],
    ['logs by host', { kind: 'log', hostnames: ['node001'], order: 'desc' }, ['l4', 'l3']],
    ['logs by text', { kind: 'log', text: 'PANIC' }, ['l1']],
  ];
  it('answers every filter with exactly the matching records', async () => {
    await t.writeFixture();
    // One comparison of all cases, so a failure shows every case that differs by name.
    const actual: Record<string, string[]> = {};
    const expected: Record<string, string[]> = {};
    for (const [what, q, labelsExpected] of cases) {
      actual[what] = labels(await t.query(q));
      expected[what] = labelsExpected;
    }
    assert.deepEqual(actual, expected);
  });

  it('finds text on both sides of a NUL, and a NUL in the text only where one is', async () => {
    // The NUL payload is the one of malformed-bytes.lp. A backend may refuse NUL payloads
    // (see the write tests); the others must answer as if only those had been written.
    const texts = {
      nul: 'nul:\u0000 tab:\t end',
      nuls: 'A\u0000\u0000b',
      plain: 'plain Tab end',
    };
    const stored = new Set<string>();
    for (const [i, [label, payload]] of Object.entries(texts).entries()) {
      const [outcome] = await t
        .storage()
        .write([rec('event', 'ev', { cluster: 'c', label }, payload, T0 + BigInt(i))]);
      if (outcome!.status === 'stored') stored.add(label);
    }
    assert.ok(stored.has('plain'));

    const cases: Array<[string, string[]]> = [
      ['\t', ['nul']],
      [' END', ['nul', 'plain']],
      ['TAB:\t', ['nul']],
      ['NUL:\u0000 TAB', ['nul']],
      ['\u0000', ['nul', 'nuls']],
      ['\u0000\u0000B', ['nuls']],
      ['\u0000zzz', []],
      ['a\u0000b', []],
    ];
    const actual: Record<string, string[]> = {};
    const expected: Record<string, string[]> = {};
    for (const [text, found] of cases) {
      actual[JSON.stringify(text)] = labels(await t.query({ text }));
      expected[JSON.stringify(text)] = found.filter((l) => stored.has(l));
    }
    assert.deepEqual(actual, expected);
  });

  it('returns each kind from its own queries only', async () => {
    await t.writeFixture();
    const logs = await t.query({ kind: 'log' });
    assert.deepEqual(labels(logs), ['l1', 'l2', 'l3', 'l4', 'l5']);
    assert.deepEqual(new Set(logs.records.map((r) => r.kind)), new Set(['log']));
    assert.deepEqual(new Set((await t.query({})).records.map((r) => r.kind)), new Set(['event']));
    assert.equal(logs.records[0]!.receivedAt, RECEIVED);
  });
  it('pages through every record exactly once with after, in both orders', async () => {
    const records: EventRecord[] = [];
    for (let i = 0; i < 53; i++) {
      const host = i % 2 === 0 ? 'node001' : 'node002';
      records.push(
        rec(
          'event',
          'ev',
          { cluster: 'c', hostname: host, label: `p${i}` },
          `payload ${i}`,
          T0 + BigInt(Math.floor(i / 3)),
        ),
      );
    }
    await t.writeAll(records);
    for (const order of ['asc', 'desc'] as const) {
      const all = labels(await t.query({ order }));
      assert.equal(all.length, 53);
      const seen: string[] = [];
      const sizes: number[] = [];
      let after: StorageQuery['after'];
      do {
        const page = await t.query({ order, limit: 10, after });
        seen.push(...labels(page));
        sizes.push(page.records.length);
        after = page.next;
        if (after) assert.equal(page.records.length, 10, 'next only on a full page');
      } while (after);
      assert.deepEqual(seen, all);
      assert.deepEqual(sizes, [10, 10, 10, 10, 10, 3]);
    }
    const hostPages: string[] = [];
    let after: StorageQuery['after'];
    do {
      const page = await t.query({ order: 'desc', limit: 4, hostnames: ['node002'], after });
      hostPages.push(...labels(page));
      after = page.next;
    } while (after);
    const expected = records
      .filter((_, i) => i % 2 === 1)
      .map((r) => r.tags.label!)
      .reverse();
    assert.deepEqual(hostPages, expected);
  });

  it('pages a result that fills its last page exactly', async () => {
    const records = Array.from({ length: 20 }, (_, i) =>
      rec('log', 'lg', { cluster: 'c', label: `q${i}` }, `line ${i}`, T0 + BigInt(i)),
    );
    await t.writeAll(records);
    const seen: string[] = [];
    let after: StorageQuery['after'];
    do {
      const page = await t.query({ kind: 'log', limit: 10, after });
      seen.push(...labels(page));
      after = page.next;
    } while (after);
    assert.deepEqual(
      seen,
      records.map((r) => r.tags.label!),
    );
  });
}
