import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Value } from 'typebox/value';
import { Router, MatchRuleSchema, type SinkRoute } from '../../core/router.ts';
import { Stats } from '../../core/stats.ts';
import { buildRecord, type EventRecord } from '../../core/record.ts';
import type { Sink } from '../../core/contracts/sink.ts';
import type { WriteOutcome } from '../../core/contracts/storage.ts';
import { createError } from '../../core/errors.ts';

/** A sink that keeps every batch it gets (the in-memory test double of the Sink contract). */
class MemorySink implements Sink {
  batches: EventRecord[][] = [];
  async write(batch: readonly EventRecord[]): Promise<void> {
    this.batches.push([...batch]);
  }
  names(): string[] {
    return this.batches.flat().map((r) => `${r.name}@${r.time}`);
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Storage double: stores each key once, reports repeats as duplicates, refuses name `bad`. */
class KeyedStorage extends MemorySink {
  #keys = new Set<string>();
  fail?: Error;
  override async write(batch: readonly EventRecord[]): Promise<any> {
    if (this.fail) throw this.fail;
    await super.write(batch);
    return batch.map((r): WriteOutcome => {
      if (r.name === 'bad') return { status: 'rejected', reason: 'refused' };
      const k = `${r.time}:${r.key}`;
      if (this.#keys.has(k)) return { status: 'duplicate' };
      this.#keys.add(k);
      return { status: 'stored' };
    });
  }
}

/** A sink whose writes wait until released, or fail. */
class GatedSink extends MemorySink {
  gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
  override write(batch: readonly EventRecord[]): Promise<void> {
    this.batches.push([...batch]);
    return new Promise((resolve, reject) => this.gates.push({ resolve, reject }));
  }
}

function rec(
  name: string,
  kind: 'event' | 'log',
  tags: Record<string, string>,
  time: bigint,
  cluster = 'testcluster',
): EventRecord {
  const m = { name, tags: { cluster, ...tags }, fields: { [kind]: `${name} payload` }, time };
  const built = buildRecord(m, kind, 1n);
  assert.ok(built.ok);
  return built.record;
}

const records = () => [
  rec('job', 'event', { function: 'start_job', hostname: 'ctrl01' }, 1n),
  rec('ccb', 'log', { loglevel: 'error', hostname: 'server01' }, 2n),
  rec('job', 'event', { function: 'stop_job', hostname: 'ctrl01' }, 3n, 'clusterb'),
  rec('nodestate', 'event', {}, 4n),
];

function captureLogger() {
  const lines: any[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

function router(storage: Sink, routes: SinkRoute[], stats = new Stats()) {
  return new Router(storage, routes, stats, captureLogger().logger);
}

describe('Router', () => {
  it('writes every record to storage and resolves with its outcomes', async () => {
    const storage = new KeyedStorage();
    const r = router(storage, []);
    const out = await r.route(records());
    assert.deepEqual(
      out.map((o) => o.status),
      ['stored', 'stored', 'stored', 'stored'],
    );
    assert.deepEqual(storage.names(), ['job@1', 'ccb@2', 'job@3', 'nodestate@4']);
    const again = await r.route(records());
    assert.deepEqual(
      again.map((o) => o.status),
      ['duplicate', 'duplicate', 'duplicate', 'duplicate'],
    );
    await r.close();
  });

  it('hands sinks the stored records their match rules choose', async () => {
    const sinks = {
      all: new MemorySink(),
      logs: new MemorySink(),
      jobs: new MemorySink(),
      tagged: new MemorySink(),
      clusterb: new MemorySink(),
      cond: new MemorySink(),
      none: new MemorySink(),
    };
    const stats = new Stats();
    const r = router(
      new KeyedStorage(),
      [
        { name: 'all', sink: sinks.all, match: {} },
        { name: 'logs', sink: sinks.logs, match: { kinds: ['log'] } },
        { name: 'jobs', sink: sinks.jobs, match: { kinds: ['event'], names: ['job'] } },
        { name: 'tagged', sink: sinks.tagged, match: { tags: { hostname: 'ctrl01' } } },
        { name: 'clusterb', sink: sinks.clusterb, match: { tags: { cluster: 'clusterb' } } },
        {
          name: 'cond',
          sink: sinks.cond,
          match: {
            if: "name == 'job' && tags.function == 'start_job' && cluster == 'testcluster'",
          },
        },
        { name: 'none', sink: sinks.none, match: { names: ['nothing'] } },
      ],
      stats,
    );
    await r.route(records());
    await r.close();
    assert.deepEqual(sinks.all.names(), ['job@1', 'ccb@2', 'job@3', 'nodestate@4']);
    assert.deepEqual(sinks.logs.names(), ['ccb@2']);
    assert.deepEqual(sinks.jobs.names(), ['job@1', 'job@3']);
    assert.deepEqual(sinks.tagged.names(), ['job@1', 'job@3']);
    assert.deepEqual(sinks.clusterb.names(), ['job@3']);
    assert.deepEqual(sinks.cond.names(), ['job@1']);
    assert.equal(sinks.none.batches.length, 0);
    assert.equal(sinks.all.batches.length, 1);
    assert.equal(stats.get('sink:all', 'routed'), 4);
    assert.equal(stats.get('sink:jobs', 'routed'), 2);
    assert.equal(stats.get('sink:none', 'routed'), 0);
  });

  it('does not forward duplicates or records storage refused', async () => {
    const all = new MemorySink();
    const r = router(new KeyedStorage(), [{ name: 'all', sink: all, match: {} }]);
    await r.route(records().slice(0, 2));
    const out = await r.route([...records(), rec('bad', 'event', {}, 9n)]);
    assert.deepEqual(
      out.map((o) => o.status),
      ['duplicate', 'duplicate', 'stored', 'stored', 'rejected'],
    );
    await r.close();
    assert.deepEqual(all.names(), ['job@1', 'ccb@2', 'job@3', 'nodestate@4']);
  });

  it('acknowledges storage while a sink write hangs; close waits for it', async () => {
    const gated = new GatedSink();
    const r = router(new KeyedStorage(), [{ name: 'slow', sink: gated, match: {} }]);
    const out = await r.route(records());
    assert.equal(out.length, 4);
    assert.equal(gated.gates.length, 1);

    let closed = false;
    const closing = r.close().then(() => (closed = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(closed, false);
    gated.gates[0]!.resolve();
    await closing;
    assert.equal(closed, true);
  });

  it('counts a failing sink, logs it once per burst, and still acknowledges storage', async () => {
    const failing = new GatedSink();
    const throwing: Sink = {
      write: () => {
        throw createError('CCES_ERR_INGEST_OVERLOADED', 'full');
      },
      flush: async () => {},
      close: async () => {},
    };
    const stats = new Stats();
    const { logger, lines } = captureLogger();
    const storage = new KeyedStorage();
    const r = new Router(
      storage,
      [
        { name: 'failing', sink: failing, match: {} },
        { name: 'throwing', sink: throwing, match: { kinds: ['log'] } },
      ],
      stats,
      logger,
    );
    const first = await r.route(records());
    const second = await r.route([rec('late', 'log', {}, 5n), rec('later', 'event', {}, 6n)]);
    assert.deepEqual(
      first.map((o) => o.status),
      ['stored', 'stored', 'stored', 'stored'],
    );
    assert.deepEqual(
      second.map((o) => o.status),
      ['stored', 'stored'],
    );
    assert.equal(storage.batches.length, 2);

    for (const g of failing.gates) g.reject(new Error('broker down'));
    await r.close();
    assert.equal(stats.get('sink:failing', 'sink_errors'), 6);
    assert.equal(stats.get('sink:throwing', 'sink_errors'), 2);

    const warns = lines.filter((l) => l.msg === 'sink write failed');
    assert.deepEqual(
      warns.map((l) => [l.sink, l.count]),
      [
        ['throwing', 1],
        ['failing', 4],
        // Held within the burst window and logged by close, in route order.
        ['failing', 2],
        ['throwing', 1],
      ],
    );
    assert.equal(warns[0].code, 'CCES_ERR_INGEST_OVERLOADED');
    assert.equal(warns[1].err.message, 'broker down');
  });

  it('rejects as storage does and forwards nothing then', async () => {
    const storage = new KeyedStorage();
    storage.fail = createError('CCES_ERR_INGEST_OVERLOADED', 'queue full', {
      retryAfterSeconds: 1,
    });
    const all = new MemorySink();
    const r = router(storage, [{ name: 'all', sink: all, match: {} }]);
    await assert.rejects(r.route(records()), (err) => err === storage.fail);
    await r.close();
    assert.equal(all.batches.length, 0);
  });

  it('refuses routes after close; a second close returns the first promise', async () => {
    const r = router(new KeyedStorage(), []);
    const a = r.close();
    assert.equal(r.close(), a);
    await a;
    await assert.rejects(r.route(records()), { code: 'CCES_ERR_INGEST_CLOSED' });
  });

  it('refuses a match condition that does not compile', () => {
    assert.throws(
      () =>
        router(new KeyedStorage(), [
          { name: 'x', sink: new MemorySink(), match: { if: 'name ==' } },
        ]),
      (err: any) => err.code === 'CCES_ERR_RULE_INVALID' && err.details.rule === 'x.match.if',
    );
  });

  it('counts a match condition failing at run time as no match', async () => {
    const sink = new MemorySink();
    const stats = new Stats();
    const r = router(
      new KeyedStorage(),
      [{ name: 'fn', sink, match: { if: "tags.function == 'stop_job'" } }],
      stats,
    );
    await r.route(records());
    await r.close();
    assert.deepEqual(sink.names(), ['job@3']);
    assert.equal(stats.get('sink:fn', 'rule_errors'), 2);
  });

  it('exports a closed schema of match rules', () => {
    assert.equal(
      Value.Check(MatchRuleSchema, { kinds: ['log'], names: ['a'], tags: { a: 'b' } }),
      true,
    );
    assert.equal(Value.Check(MatchRuleSchema, { kinds: ['metric'] }), false);
    assert.equal(Value.Check(MatchRuleSchema, { name: 'a' }), false);
  });
});
