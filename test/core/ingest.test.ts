import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import sqlitePlugin from '../../plugins/storage/sqlite/index.ts';
import { StorageManager, storageManagerOptions } from '../../core/storage-manager.ts';
import { Router } from '../../core/router.ts';
import { createIngest, type IngestSettings } from '../../core/ingest.ts';
import { boundRaw } from '../../core/ingest/tally.ts';
import { compileRules, type MessageRules } from '../../core/rules.ts';
import type { Message } from '../../core/message.ts';
import { Stats } from '../../core/stats.ts';
import type { IngestResult } from '../../core/contracts/receiver.ts';
import type { Sink } from '../../core/contracts/sink.ts';
import type { Storage, WriteOutcome } from '../../core/contracts/storage.ts';
import { extraToJson, type EventRecord } from '../../core/record.ts';
import { decode } from '../../core/lineproto/index.ts';
import { readSample, sampleNames } from '../helpers/samples.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const SCOPE = 'receiver:test';
const RECEIVED_AT = 1_735_740_000_000_000_000n;
const dir = mkdtempSync(join(tmpdir(), 'cces-ingest-'));
const open: { manager: StorageManager; storage: Storage }[] = [];
let dbCount = 0;

after(async () => {
  for (const { manager, storage } of open) {
    await manager.close();
    await storage.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  storage: Storage;
  manager: StorageManager;
  stats: Stats;
  ingest: ReturnType<typeof createIngest>;
  count(name: string): number;
}

/** A fresh SQLite database behind a real storage manager, router and ingest. */
async function setup(
  settings: IngestSettings = {},
  opts: { maxQueue?: number; wrap?: (m: StorageManager) => Sink; logger?: Logger } = {},
): Promise<Setup> {
  const logger = opts.logger ?? pino({ level: 'silent' });
  const storage = (await sqlitePlugin.create(
    { database_path: `db${++dbCount}/events.db` },
    { name: 'sqlite', logger, configDir: dir },
  )) as Storage;
  await storage.open();
  const stats = new Stats();
  const manager = new StorageManager(
    storage,
    storageManagerOptions({
      backend: { type: 'sqlite' },
      retention_time: '0',
      flush_time: '10ms',
      max_queue: opts.maxQueue ?? 100_000,
    }),
    { logger, stats },
  );
  open.push({ manager, storage });
  const router = new Router(opts.wrap?.(manager) ?? manager, [], stats, logger);
  const ingest = createIngest({ router, storage: manager, stats, logger }, SCOPE, settings);
  return { storage, manager, stats, ingest, count: (name) => stats.get(SCOPE, name) };
}

async function events(storage: Storage, kind: 'event' | 'log' = 'event'): Promise<EventRecord[]> {
  return (await storage.query({ kind, order: 'asc', limit: 1000 })).records;
}

const lines = (r: { rejected: { line: number }[] }) => r.rejected.map((e) => e.line);

/** The storage manager, but records named `refuse_me` are refused with 'too odd'. */
const refusing = (m: StorageManager): Sink => ({
  async write(batch) {
    const outcomes = await m.write(batch.filter((r) => r.name !== 'refuse_me'));
    let i = 0;
    return batch.map((r): WriteOutcome =>
      r.name === 'refuse_me' ? { status: 'rejected', reason: 'too odd' } : outcomes[i++]!,
    );
  },
  flush: () => m.flush(),
  close: () => m.close(),
});

describe('createIngest with SQLite', () => {
  it('stores entries dated before 2000 as sent, counts them and warns once', async () => {
    const logged: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        logged.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    const s = await setup({}, { logger: pino({ level: 'warn' }, sink) });
    const input = [
      'ts,cluster=c event="epoch zero" 0',
      'ts,cluster=c event="fine" 1735732800',
      'ts,cluster=c event="negative" -1',
      'ts,cluster=c event="tiny" 1735732',
    ].join('\n');
    const result = await s.ingest(input, { receivedAt: RECEIVED_AT });
    assert.equal(result.stored, 4);
    assert.equal(s.count('implausible_time'), 3);
    assert.deepEqual(
      // Under load the storage manager may warn of a late batch too: not this test's matter.
      logged
        .filter((l) => !String(l.msg).startsWith('records waited longer'))
        .map((l) => [l.msg, l.line, l.time, l.count]),
      [
        [
          "entries dated before 2000 stored as sent; check the sender's timestamp precision",
          1,
          '0',
          3,
        ],
      ],
    );
    assert.deepEqual(
      (await events(s.storage)).map((r) => r.time),
      [-1_000_000_000n, 0n, 1_735_732_000_000_000n, 1_735_732_800_000_000_000n],
    );
  });

  it('stores job-events.lp; the same input again is all duplicates', async () => {
    const s = await setup();
    const input = readSample('job-events.lp');
    const first = await s.ingest(input, { receivedAt: RECEIVED_AT });
    assert.deepEqual(first, { received: 9, stored: 9, duplicates: 0, skipped: 0, rejected: [] });
    const second = await s.ingest(input, { receivedAt: RECEIVED_AT + 1n });
    assert.deepEqual(second, { received: 9, stored: 0, duplicates: 9, skipped: 0, rejected: [] });
    assert.equal(s.count('received'), 18);
    assert.equal(s.count('stored'), 9);
    assert.equal(s.count('duplicates'), 9);

    const stored = await events(s.storage);
    assert.equal(stored.length, 9);
    assert.deepEqual(
      stored.map((r) => [r.name, r.cluster, r.time]),
      [
        ['job', 'testcluster', 1735732800000000000n],
        ['myevent', 'testcluster', 1735732805000000000n],
        ['nodestate', 'testcluster', 1735732830000000000n],
        ['job', 'testcluster', 1735732860000000000n],
        ['start_job', 'testcluster', 1735732920000000000n],
        ['stop_job', 'testcluster', 1735732920000000000n],
        ['job', 'testcluster', 1735734060000000000n],
        ['job', 'testcluster', 1735736400000000000n],
        ['job', 'testcluster', 1735740000000000000n],
      ],
    );
    assert.ok(stored.every((r) => r.receivedAt === RECEIVED_AT));
  });

  it('routes mixed-types.lp: 3 events and 1 log stored, the rest skipped by type', async () => {
    const s = await setup();
    const res = await s.ingest(readSample('mixed-types.lp'), { receivedAt: RECEIVED_AT });
    assert.deepEqual(res, { received: 12, stored: 4, duplicates: 0, skipped: 8, rejected: [] });
    assert.equal(s.count('skipped_metric'), 3);
    assert.equal(s.count('skipped_control'), 2);
    assert.equal(s.count('skipped_query'), 1);
    assert.equal(s.count('skipped_other'), 2);
    assert.deepEqual(
      (await events(s.storage)).map((r) => [r.name, r.payload, r.extra && extraToJson(r.extra)]),
      [
        ['myevent', 'ok', undefined],
        ['mixed', 'both', '{"value":1}'],
        ['myevent', 'with extras', '{"code":17,"severity":"high"}'],
      ],
    );
    assert.deepEqual(
      (await events(s.storage, 'log')).map((r) => [r.name, r.payload, r.tags.loglevel]),
      [['ccmc', 'disk almost full', 'warn']],
    );
  });

  it('rejects missing-cluster.lp lines without a default; stores them with one', async () => {
    const s = await setup();
    const input = readSample('missing-cluster.lp');
    const bare = await s.ingest(input, { receivedAt: RECEIVED_AT });
    assert.deepEqual(bare, {
      received: 6,
      stored: 4,
      duplicates: 0,
      skipped: 0,
      rejected: [
        { line: 6, reason: 'no_cluster' },
        { line: 7, reason: 'no_cluster' },
      ],
    });
    assert.equal(s.count('rejected_no_cluster'), 2);
    assert.equal(s.count('cluster_from_payload'), 0);

    const withDefault = await s.ingest(input, { receivedAt: RECEIVED_AT, cluster: 'clusterb' });
    assert.deepEqual(withDefault, {
      received: 6,
      stored: 2,
      duplicates: 4,
      skipped: 0,
      rejected: [],
    });
    // Line 9's JSON says testcluster against the default clusterb: the message wins.
    assert.equal(s.count('cluster_from_payload'), 1);
    const stored = [...(await events(s.storage)), ...(await events(s.storage, 'log'))];
    assert.deepEqual(
      stored.map((r) => [r.name, r.cluster, r.time]).sort((a, b) => (a[2]! < b[2]! ? -1 : 1)),
      [
        ['job', 'clusterb', 1735733100000000000n],
        ['nodestate', 'clusterb', 1735733110000000000n],
        ['ccnc', 'clusterb', 1735733111000000000n],
        ['myevent', 'clusterb', 1735733112000000000n],
        ['job', 'clusterb', 1735734300000000000n],
        ['job', 'testcluster', 1735736400000000000n],
      ],
    );

    const kept = await s.storage.listRejected(10);
    assert.deepEqual(
      kept.map((k) => [k.line, k.column, k.reason, k.source, k.receivedAt, k.raw]),
      [
        [
          7,
          undefined,
          'no_cluster',
          SCOPE,
          RECEIVED_AT,
          'myevent,hostname=login01 event="plain text, no JSON" 1735733112000000000',
        ],
        [
          6,
          undefined,
          'no_cluster',
          SCOPE,
          RECEIVED_AT,
          'ccnc,hostname=node101,loglevel=info,type=node,type-id=0 log="controller started" 1735733111000000000',
        ],
      ],
    );
  });

  it('rejects the 13 bad entries of malformed.lp and stores the 13 good ones', async () => {
    const s = await setup();
    const res = await s.ingest(readSample('malformed.lp'), { receivedAt: RECEIVED_AT });
    const bad = [3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 40];
    assert.deepEqual(lines(res), bad);
    assert.ok(res.rejected.every((e) => e.reason.startsWith('syntax: ') && e.column! >= 1));
    assert.equal(res.stored, 13);
    assert.equal(res.received, 13);
    assert.equal(s.count('rejected'), 13);
    assert.equal(s.count('rejected_syntax'), 13);
    const payloads = (await events(s.storage)).map((r) => r.payload);
    assert.deepEqual(payloads, [
      ...Array.from({ length: 12 }, (_, i) => `after-${i + 1}`),
      'before-13',
    ]);

    const kept = (await s.storage.listRejected(100)).reverse();
    assert.deepEqual(
      kept.map((k) => k.line),
      bad,
    );
    const text = readSample('malformed.lp').toString('utf8').split('\n');
    assert.equal(kept[0]!.raw, text[2]);
    assert.equal(kept[3]!.raw, 'job');
    for (const [i, k] of kept.entries()) {
      assert.equal(k.reason, res.rejected[i]!.reason);
      assert.equal(k.column, res.rejected[i]!.column);
      assert.equal(k.source, SCOPE);
      assert.equal(k.receivedAt, RECEIVED_AT);
    }
  });

  it('ingests every other sample with exact counts', async () => {
    const expected: Record<string, [stored: number, skipped: number, rejected: number[]]> = {
      'batch-crlf.lp': [6, 0, []],
      'json-escaping.lp': [10, 0, []],
      'tag-escaping.lp': [10, 0, []],
      'long-payload.lp': [3, 0, []],
      'timestamps.lp': [11, 0, [23, 25, 27]],
      'logs.lp': [5, 1, [9, 11]],
      'malformed-bytes.lp': [7, 0, [3, 6, 9, 12, 15, 18]],
    };
    for (const [name, [stored, skipped, rejected]] of Object.entries(expected)) {
      const s = await setup();
      const res = await s.ingest(readSample(name), { receivedAt: RECEIVED_AT });
      assert.deepEqual([res.stored, res.skipped, lines(res)], [stored, skipped, rejected], name);
      const all = [...(await events(s.storage)), ...(await events(s.storage, 'log'))];
      assert.equal(all.length, stored, name);
      assert.equal((await s.storage.listRejected(100)).length, rejected.length, name);
    }
    const covered = [...Object.keys(expected), 'job-events.lp', 'mixed-types.lp'];
    covered.push('missing-cluster.lp', 'malformed.lp');
    assert.deepEqual(covered.sort(), sampleNames());
  });

  it('stores the logs without a cluster of logs.lp under the default cluster', async () => {
    const s = await setup({ defaultCluster: 'testcluster' });
    const res = await s.ingest(readSample('logs.lp'), { receivedAt: RECEIVED_AT });
    assert.deepEqual(res, { received: 8, stored: 7, duplicates: 0, skipped: 1, rejected: [] });
    assert.equal(s.count('skipped_other'), 1);
    const logs = await events(s.storage, 'log');
    assert.deepEqual(
      logs.map((r) => [r.name, r.cluster, r.tags.level ?? r.tags.loglevel]),
      [
        ['ccb', 'testcluster', 'info'],
        ['ccms', 'testcluster', 'warn'],
        ['ccmc', 'testcluster', 'error'],
        ['ccem', 'testcluster', 'debug'],
        ['ccb', 'testcluster', 'error'],
        ['rapl.pkg_power_limit1', 'testcluster', 'INFO'],
        ['topology', 'testcluster', 'INFO'],
      ],
    );
  });

  it('uses the receive time for entries without one and honours the precision', async () => {
    const s = await setup({ precision: 'ns' });
    const input = 'a,cluster=c event="no time"\n' + 'b,cluster=c event="seconds" 1735732800\n';
    await s.ingest(input, { receivedAt: RECEIVED_AT, precision: 's' });
    const byName = new Map((await events(s.storage)).map((r) => [r.name, r.time]));
    assert.equal(byName.get('a'), RECEIVED_AT);
    assert.equal(byName.get('b'), 1735732800000000000n);

    const t = await setup({ precision: 'ms' });
    await t.ingest('c,cluster=c event="ms" 1735732800123\n', { receivedAt: RECEIVED_AT });
    assert.equal((await events(t.storage))[0]!.time, 1735732800123000000n);
  });

  it('applies the receiver rules before classifying', async () => {
    const rules = compileRules({
      drop_messages: ['myevent'],
      add_tags_if: [{ if: "name == 'ccnc'", key: 'cluster', value: 'clusterc' }],
      drop_messages_if: ["tags.function == 'stop_job'"],
    });
    const s = await setup({ rules });
    const res = await s.ingest(readSample('missing-cluster.lp'), { receivedAt: RECEIVED_AT });
    assert.deepEqual(res, { received: 6, stored: 3, duplicates: 0, skipped: 3, rejected: [] });
    assert.equal(s.count('dropped_by_rule'), 3);
    // nodestate and ccnc have no function tag: the condition fails for them and counts.
    assert.equal(s.count('rule_errors'), 2);
    const log = (await events(s.storage, 'log'))[0]!;
    assert.deepEqual([log.name, log.cluster], ['ccnc', 'clusterc']);
  });

  it('keeps records the storage refuses in the rejected store', async () => {
    const s = await setup({}, { wrap: refusing });
    const input =
      'ok,cluster=c event="a" 1\n' +
      'bad line\n' +
      'refuse_me,cluster=c,host=h event="b",n=2i 2\n' +
      'ok,cluster=c event="c" 3\n';
    const res = await s.ingest(input, { receivedAt: RECEIVED_AT });
    assert.equal(res.stored, 2);
    assert.deepEqual(
      res.rejected.map((e) => [e.line, e.reason.split(':')[0]]),
      [
        [2, 'syntax'],
        [3, 'storage'],
      ],
    );
    assert.equal(res.rejected[1]!.reason, 'storage: too odd');
    assert.equal(s.count('rejected_storage'), 1);
    assert.equal(s.count('rejected_syntax'), 1);
    const kept = await s.storage.listRejected(10);
    assert.equal(kept[0]!.raw, 'refuse_me,cluster=c,host=h event="b",n=2i 2000000000');
    assert.equal(kept[0]!.reason, 'storage: too odd');
    assert.equal(kept[0]!.line, 3);
  });

  it('decodes each part of a list on its own; errors name the part and its line', async () => {
    const s = await setup({ defaultCluster: 'dflt' }, { wrap: refusing });
    const parts = [
      Buffer.from('ok event="a" 1\nok event="open 2'),
      Buffer.from('ok event="b" 3'),
      Buffer.from('cpu value=1 4\nrefuse_me event="c" 5\r\n'),
      Buffer.from(''),
      Buffer.from('ok,cluster=c2 event="d" 6\n'),
    ];
    const res = await s.ingest(parts, { precision: 's', receivedAt: RECEIVED_AT });
    assert.deepEqual(
      { ...res, rejected: [] },
      { received: 5, stored: 3, duplicates: 0, skipped: 1, rejected: [] },
    );
    assert.deepEqual(res.rejected, [
      { part: 0, line: 2, column: 10, reason: 'syntax: expected closing quote' },
      { part: 2, line: 2, reason: 'storage: too odd' },
    ]);
    assert.deepEqual(
      (await events(s.storage)).map((r) => [r.cluster, r.payload, r.time]),
      [
        ['dflt', 'a', 1_000_000_000n],
        ['dflt', 'b', 3_000_000_000n],
        ['c2', 'd', 6_000_000_000n],
      ],
    );
    const kept = await s.storage.listRejected(10);
    assert.deepEqual(kept.map((r) => [r.line, r.raw]).sort(), [
      [2, 'ok event="open 2'],
      [2, 'refuse_me,cluster=dflt event="c" 5000000000'],
    ]);
    assert.deepEqual(
      ['received', 'stored', 'skipped_metric', 'rejected_syntax', 'rejected_storage'].map((c) =>
        s.count(c),
      ),
      [5, 3, 1, 1, 1],
    );
  });

  it('answers a list of sample parts as each sample alone, lines counted per part', async () => {
    const names = ['malformed.lp', 'job-events.lp', 'logs.lp'];
    const alone = await setup({ defaultCluster: 'dflt' });
    const one: IngestResult[] = [];
    for (const n of names) one.push(await alone.ingest(readSample(n), { receivedAt: RECEIVED_AT }));
    const listed = await setup({ defaultCluster: 'dflt' });
    const parts = names.map((n) => Buffer.from(readSample(n)));
    const res = await listed.ingest(parts, { receivedAt: RECEIVED_AT });
    const sum = (k: 'received' | 'stored' | 'skipped') => one.reduce((n, r) => n + r[k], 0);
    assert.deepEqual(
      [res.received, res.stored, res.skipped],
      [sum('received'), sum('stored'), sum('skipped')],
    );
    assert.deepEqual(
      res.rejected,
      one.flatMap((r, part) => r.rejected.map((e) => ({ part, ...e }))),
    );
    assert.deepEqual(await events(listed.storage), await events(alone.storage));
    assert.deepEqual(await events(listed.storage, 'log'), await events(alone.storage, 'log'));
  });

  it('refuses input unread while the queue is full, keeping nothing of it', async () => {
    const s = await setup({}, { maxQueue: 9 });
    const first = s.ingest(readSample('job-events.lp'), { receivedAt: RECEIVED_AT });
    await assert.rejects(s.ingest(readSample('malformed.lp')), {
      code: 'CCES_ERR_INGEST_OVERLOADED',
    });
    assert.equal((await first).stored, 9);
    assert.deepEqual(
      ['refused_unread', 'refused', 'rejected', 'received'].map((c) => s.count(c)),
      [1, 0, 0, 9],
    );
    assert.equal(s.stats.get('storage', 'overloaded_unread'), 1);
    assert.equal((await s.storage.stats()).rejected, 0);
  });

  it('rejects with the storage manager error unchanged when overloaded or closed', async () => {
    const s = await setup({}, { maxQueue: 10 });
    const first = s.ingest(readSample('job-events.lp'), { receivedAt: RECEIVED_AT });
    const second = s.ingest('x,cluster=c event="1" 1\nx,cluster=c event="2" 2\n');
    await assert.rejects(second, (err: any) => {
      assert.equal(err.code, 'CCES_ERR_INGEST_OVERLOADED');
      assert.ok(err.details.retryAfterSeconds >= 1);
      return true;
    });
    assert.equal((await first).stored, 9);
    assert.equal(s.count('refused'), 2);
    assert.equal(s.count('stored'), 9);

    await s.manager.close();
    await assert.rejects(s.ingest('x,cluster=c event="3" 3\n'), {
      code: 'CCES_ERR_INGEST_CLOSED',
    });
    assert.equal(s.count('refused'), 3);
  });
});

describe('createIngest memory', () => {
  it('holds the records of an input waiting for its commit, not its decoded messages', async () => {
    let release!: () => void;
    const committed = new Promise<void>((resolve) => (release = resolve));
    const held: EventRecord[][] = [];
    const sink: Sink = {
      write: async (batch) => {
        held.push([...batch]);
        await committed;
      },
      flush: async () => {},
      close: async () => {},
    };
    const seen: WeakRef<Message>[] = [];
    const rules: MessageRules = {
      apply: (msg) => (seen.push(new WeakRef(msg)), msg),
      drainErrors: () => undefined,
    };
    const logger = pino({ level: 'silent' });
    const stats = new Stats();
    const router = new Router(sink, [], stats, logger);
    const rejected = { writeRejected: async () => {} };
    const ingest = createIngest({ router, storage: rejected, stats, logger }, SCOPE, { rules });

    const result = ingest(readSample('job-events.lp'), { receivedAt: RECEIVED_AT });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(held.flat().length, 9);
    gc();
    assert.equal(seen.length, 9);
    assert.deepEqual(
      seen.map((ref) => ref.deref()),
      seen.map(() => undefined),
    );
    release();
    assert.equal((await result).stored, 9);
  });
});

describe('boundRaw', () => {
  it('cuts raw text to 64 KiB of UTF-8 without splitting a character', () => {
    assert.equal(boundRaw('abc'), 'abc');
    assert.equal(boundRaw('a'.repeat(70_000)).length, 65_536);
    const cut = boundRaw('é'.repeat(40_000));
    assert.equal(cut.length, 32_768);
    assert.equal(Buffer.byteLength(cut), 65_536);
    const odd = boundRaw('a' + '€'.repeat(30_000));
    assert.ok(Buffer.byteLength(odd) <= 65_536);
    assert.equal(odd.length, 1 + 21_845);
  });

  it('the decoder reads the re-encoded text of a refused message back', () => {
    const raw =
      'ccnc,hostname=node101,loglevel=info,type=node,type-id=0 log="controller started" 1735733111000000000';
    const { messages, errors } = decode(raw);
    assert.equal(errors.length, 0);
    assert.equal(messages[0]!.fields.log, 'controller started');
  });
});
