import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, afterEach, describe, it } from 'node:test';
import { Value } from 'typebox/value';
import type { Storage } from '../../core/contracts/storage.ts';
import { createError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import type { EventRecord } from '../../core/record.ts';
import { Stats } from '../../core/stats.ts';
import {
  StorageManager,
  StorageManagerSchema,
  storageManagerOptions,
  type StorageManagerOptions,
} from '../../core/storage-manager.ts';
import { parseDuration } from '../../core/duration.ts';
import { nowNanos } from '../../core/time.ts';
import plugin from '../../plugins/storage/sqlite/index.ts';
import type { SqliteStorage } from '../../plugins/storage/sqlite/sqlite-storage.ts';
import { rec, T0 } from '../storage/records.ts';

const logger = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'cces-manager-'));
after(() => rmSync(root, { recursive: true, force: true }));

const HOUR = 3_600_000_000_000n;
const BASE: StorageManagerOptions = {
  ...storageManagerOptions({ backend: { type: 'sqlite' } }),
  retentionNs: 0n,
};

let n = 0;
let storage: SqliteStorage;
let stats: Stats;
let managers: StorageManager[];

beforeEach(async () => {
  storage = (await plugin.create(
    { database_path: `db-${n++}/events.db`, busy_timeout: '20ms' },
    { name: 'storage', logger, configDir: root },
  )) as SqliteStorage;
  await storage.open();
  stats = new Stats();
  managers = [];
});
afterEach(async () => {
  for (const m of managers) await m.close();
  await storage.close();
});

function manager(opts: Partial<StorageManagerOptions> = {}, backend: Storage = storage) {
  const m = new StorageManager(backend, { ...BASE, ...opts }, { logger, stats });
  managers.push(m);
  return m;
}

function events(count: number, prefix = 'r', time = T0): EventRecord[] {
  return Array.from({ length: count }, (_, i) =>
    rec('event', 'ev', { cluster: 'c', label: `${prefix}${i}` }, `payload ${i}`, time + BigInt(i)),
  );
}

async function storedLabels(kind: 'event' | 'log' = 'event'): Promise<string[]> {
  const page = await storage.query({ kind, order: 'asc', limit: 100_000 });
  return page.records.map((r) => r.tags.label!);
}

const storageCounters = () => stats.snapshot().storage;

describe('StorageManager', () => {
  it('coalesces writers that arrive together into one transaction', async () => {
    const m = manager();
    const writers = Array.from({ length: 10 }, (_, w) => m.write(events(5, `w${w}-`)));
    assert.equal(m.queueDepth, 50);
    const answers = await Promise.all(writers);
    assert.deepEqual(
      answers.map((a) => a.length),
      Array(10).fill(5),
    );
    assert.equal((await storedLabels()).length, 50);
    assert.deepEqual(storageCounters(), {
      queue_depth: 0,
      batches: 1,
      stored: 50,
      duplicates: 0,
      rejected: 0,
    });
  });

  it('splits writers by batch_size, keeps outcome order, answers after the last part', async () => {
    const m = manager({ batchSize: 5 });
    const a = events(3, 'a');
    const b = events(12, 'b', T0 + 100n);
    b[7] = b[2]!;
    const answerA = m.write(a);
    const answerB = m.write(b).then(async (outcomes) => ({ outcomes, seen: await storedLabels() }));
    assert.deepEqual(
      await answerA,
      a.map(() => ({ status: 'stored' })),
    );
    const { outcomes, seen } = await answerB;
    const expected = b.map((_, i) => ({ status: i === 7 ? 'duplicate' : 'stored' }));
    assert.deepEqual(outcomes, expected);
    assert.equal(seen.length, 14, 'every record of b committed before b was answered');
    assert.equal(storageCounters()!.batches, 3);
    assert.equal(storageCounters()!.duplicates, 1);
  });

  it('writes the record that fills a batch and the one after it', async () => {
    const m = manager({ batchSize: 10 });
    const full = events(10, 'f');
    const next = events(1, 'n', T0 + 50n);
    await Promise.all([m.write(full), m.write(next)]);
    assert.deepEqual(
      await storedLabels(),
      [...full, ...next].map((r) => r.tags.label),
    );
    assert.equal(storageCounters()!.batches, 2);
  });

  it('counts batches that waited longer than flush_time', async () => {
    await manager({ flushTimeMs: 1000 }).write(events(1, 'a'));
    assert.equal(storageCounters()!.late_batches, undefined);
    await manager({ flushTimeMs: 0 }).write(events(1, 'b', T0 + 10n));
    assert.equal(storageCounters()!.late_batches, 1);
  });

  it('refuses writes beyond max_queue at once with a retry-after', async () => {
    const m = manager({ maxQueue: 10 });
    const first = m.write(events(8, 'a'));
    await assert.rejects(m.write(events(5, 'b', T0 + 50n)), (err: any) => {
      assert.equal(err.code, 'CCES_ERR_INGEST_OVERLOADED');
      assert.equal(err.details.retryAfterSeconds, 1);
      assert.equal(err.details.queueDepth, 8);
      return true;
    });
    const second = m.write(events(2, 'c', T0 + 90n));
    await Promise.all([first, second]);
    assert.equal(storageCounters()!.overloaded, 5);
    assert.deepEqual(await m.write(events(25, 'd', T0 + 200n)).then((o) => o.length), 25);
    assert.equal((await storedLabels()).length, 35);
  });

  // A batch that fails fails every writer with records in it; their other records may be
  // committed already (big0..4 here), as a writer that is retried finds them as duplicates.
  // With one batch in flight the failed writer's later records are dropped from the queue;
  // with two (on the SQLite writer thread), its next batch was already on its way and commits.
  for (const [concurrency, laterOfFailed] of [
    [1, []],
    [2, ['big10', 'big11']],
  ] as const) {
    it(`rejects every writer of a failed batch with CCES_ERR_STORAGE_WRITE (${concurrency} in flight)`, async () => {
      if (concurrency > 1) {
        // Batches overlap only when the storage answers later than it is called.
        const dir = `db-${n++}`;
        await storage.close();
        storage = (await plugin.create(
          // Every batch to the thread (these are small), so that batches overlap.
          {
            database_path: `${dir}/events.db`,
            busy_timeout: '20ms',
            writer_thread: true,
            writer_thread_min_rows: 1,
          },
          { name: 'storage', logger, configDir: root },
        )) as SqliteStorage;
        await storage.open();
      }
      storage.database.exec(`CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.payload = 'boom'
      BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END`);
      const pinned: Storage = Object.create(storage, {
        writeConcurrency: { value: concurrency },
        write: { value: (batch: readonly EventRecord[]) => storage.write(batch) },
      });
      const m = manager({ batchSize: 5 }, pinned);
      const big = events(12, 'big');
      big[7] = rec('event', 'ev', { cluster: 'c', label: 'boom' }, 'boom', T0 + 7n);
      const bigAnswer = m.write(big);
      const other = m.write(events(2, 'other', T0 + 100n));
      const check = (err: any) => {
        assert.equal(err.code, 'CCES_ERR_STORAGE_WRITE');
        assert.equal(err.cause.code, 'SQLITE_CONSTRAINT_TRIGGER');
        return true;
      };
      await assert.rejects(bigAnswer, check);
      assert.deepEqual(await other, [{ status: 'stored' }, { status: 'stored' }]);
      assert.deepEqual(await storedLabels(), [
        'big0',
        'big1',
        'big2',
        'big3',
        'big4',
        ...laterOfFailed,
        'other0',
        'other1',
      ]);
      assert.equal(storageCounters()!.write_errors, 1);
      assert.equal(m.queueDepth, 0);
    });
  }

  it('fails writers while the database is locked and recovers without a restart', async () => {
    const m = manager();
    const Database = (await import('better-sqlite3')).default;
    const other = new Database(storage.database.name);
    other.exec('BEGIN IMMEDIATE');
    const answers = [m.write(events(2, 'a')), m.write(events(2, 'b', T0 + 10n))];
    for (const answer of answers) {
      await assert.rejects(answer, { code: 'CCES_ERR_STORAGE_WRITE' });
    }
    assert.equal(await m.ready(), false);
    other.exec('ROLLBACK');
    other.close();
    assert.equal(await m.ready(), true);
    assert.equal((await m.write(events(2, 'c', T0 + 20n))).length, 2);
    assert.deepEqual(await storedLabels(), ['c0', 'c1']);
    assert.equal(storageCounters()!.write_errors, 1);
  });

  it('fails writers when the storage was closed underneath', async () => {
    const m = manager();
    await storage.close();
    await assert.rejects(m.write(events(1)), { code: 'CCES_ERR_STORAGE_WRITE' });
    assert.equal(await m.ready(), false);
  });

  it('holds writers while the storage is unavailable and commits when it returns', async () => {
    let failures = 2;
    const flaky: Storage = Object.create(storage, {
      write: {
        value: (batch: readonly EventRecord[]) =>
          failures-- > 0
            ? Promise.reject(createError('CCES_ERR_STORAGE_UNAVAILABLE', 'database away'))
            : storage.write(batch),
      },
    });
    const m = manager({}, flaky);
    assert.deepEqual(await m.write(events(2)), [{ status: 'stored' }, { status: 'stored' }]);
    assert.equal(failures, -1);
    assert.equal(storageCounters()!.write_errors, undefined);
  });

  it('deletes old events at start in chunks, keeps logs, prunes rejected input', async () => {
    const now = nowNanos();
    await storage.write([
      ...events(5, 'old', now - 72n * HOUR),
      ...events(2, 'new', now - HOUR),
      rec('log', 'lg', { cluster: 'c', label: 'oldlog' }, 'x', now - 72n * HOUR),
    ]);
    await storage.writeRejected([
      { raw: 'ancient', reason: 'syntax', source: 't', receivedAt: 1n },
    ]);
    await storage.writeRejected(
      [1n, 2n, 3n].map((i) => ({
        raw: `r${i}`,
        reason: 'syntax',
        source: 't',
        receivedAt: now - 4n + i,
      })),
    );
    const m = manager({ retentionNs: 48n * HOUR, retentionChunk: 2, rejectedMaxCount: 2 });
    await m.start();
    await m.runRetention();
    assert.deepEqual(await storedLabels(), ['new0', 'new1']);
    assert.deepEqual(await storedLabels('log'), ['oldlog']);
    assert.deepEqual(
      (await storage.listRejected(10)).map((r) => r.raw),
      ['r3', 'r2'],
    );
    assert.equal(storageCounters()!.retention_deleted_events, 5);
    assert.equal(storageCounters()!.retention_deleted_logs, undefined);
    assert.equal(storageCounters()!.retention_deleted_rejected, 2);
  });

  it('deletes old logs when log_retention_time is set', async () => {
    const now = nowNanos();
    await storage.write([
      rec('log', 'lg', { cluster: 'c', label: 'old' }, 'x', now - 10n * HOUR),
      rec('log', 'lg', { cluster: 'c', label: 'new' }, 'x', now - HOUR),
      ...events(1, 'ev', now - 10n * HOUR),
    ]);
    const m = manager({ retentionNs: 48n * HOUR, logRetentionNs: 2n * HOUR });
    await m.start();
    await m.runRetention();
    assert.deepEqual(await storedLabels('log'), ['new']);
    assert.deepEqual(await storedLabels(), ['ev0']);
    assert.equal(storageCounters()!.retention_deleted_logs, 1);
  });

  it('keeps everything when retention reaches before the earliest storable time', async () => {
    const earliest = -(2n ** 63n);
    await storage.write([
      ...events(1, 'first', earliest),
      rec('log', 'lg', { cluster: 'c', label: 'firstlog' }, 'x', earliest),
    ]);
    await storage.writeRejected([
      { raw: 'r', reason: 'syntax', source: 't', receivedAt: earliest },
    ]);
    const centuries = parseDuration('99999999h');
    const m = manager({
      retentionNs: centuries,
      logRetentionNs: centuries,
      rejectedMaxAgeNs: centuries,
    });
    await m.start();
    await m.runRetention();
    assert.deepEqual(await storedLabels(), ['first0']);
    assert.deepEqual(await storedLabels('log'), ['firstlog']);
    assert.deepEqual(
      (await storage.listRejected(10)).map((r) => r.raw),
      ['r'],
    );
    assert.equal(storageCounters()!.retention_errors, undefined);
  });

  it('lets writes commit between retention chunks', async () => {
    const now = nowNanos();
    await storage.write(events(3000, 'old', now - 100n * HOUR));
    const m = manager({ retentionNs: 48n * HOUR, retentionChunk: 100 });
    let retentionDone = false;
    await m.start();
    const deletedAtStart = storageCounters()?.retention_deleted_events ?? 0;
    assert.ok(deletedAtStart < 3000, `start waited for the whole pass (${deletedAtStart})`);
    const started = m.runRetention().then(() => (retentionDone = true));
    await m.write(events(1, 'fresh', now));
    assert.equal(retentionDone, false, 'the write committed while retention was running');
    await started;
    assert.deepEqual(await storedLabels(), ['fresh0']);
    assert.equal(storageCounters()!.retention_deleted_events, 3000);
  });

  it('keeps rejected input through the manager', async () => {
    const m = manager();
    await m.writeRejected([
      { raw: 'bad', reason: 'syntax', source: 'receiver:http', line: 2, receivedAt: 5n },
    ]);
    const [item] = await storage.listRejected(1);
    assert.deepEqual([item!.raw, item!.line, item!.receivedAt], ['bad', 2, 5n]);
    assert.equal(storageCounters()!.rejected_kept, 1);
  });

  it('drains the queue on close, then refuses writes; close is idempotent', async () => {
    const m = manager({ batchSize: 3 });
    const answers = [m.write(events(4, 'a')), m.write(events(4, 'b', T0 + 10n))];
    const closing = m.close();
    assert.equal(m.close(), closing);
    await closing;
    assert.deepEqual(
      (await Promise.all(answers)).map((a) => a.length),
      [4, 4],
    );
    assert.equal((await storedLabels()).length, 8);
    await assert.rejects(m.write(events(1, 'late', T0 + 90n)), { code: 'CCES_ERR_INGEST_CLOSED' });
    await assert.rejects(m.writeRejected([]), { code: 'CCES_ERR_INGEST_CLOSED' });
    assert.equal(await m.ready(), false);
    assert.equal(await storage.ready(), true, 'the manager leaves the storage open');
  });

  it('flush resolves once the writers queued before it are answered', async () => {
    const m = manager();
    let answered = 0;
    for (let i = 0; i < 3; i++)
      void m.write(events(2, `f${i}-`, T0 + BigInt(i * 10))).then(() => answered++);
    await m.flush();
    assert.equal(answered, 3);
    assert.equal(m.queueDepth, 0);
  });
});

describe('storage config', () => {
  it('applies the defaults of the original', () => {
    assert.deepEqual(storageManagerOptions({ backend: { type: 'sqlite' } }), {
      batchSize: 1000,
      flushTimeMs: 1000,
      maxQueue: 100_000,
      retentionNs: 48n * HOUR,
      retentionIntervalMs: 3_600_000,
      retentionChunk: 5000,
      rejectedMaxCount: 100_000,
      rejectedMaxAgeNs: 168n * HOUR,
    });
    const opts = storageManagerOptions({
      retention_time: '1h30m',
      log_retention_time: '720h',
      flush_time: '250ms',
      batch_size: 50,
      max_queue: 7,
      backend: { type: 'sqlite' },
    });
    assert.equal(opts.retentionNs, 90n * 60_000_000_000n);
    assert.equal(opts.logRetentionNs, 720n * HOUR);
    assert.deepEqual([opts.flushTimeMs, opts.batchSize, opts.maxQueue], [250, 50, 7]);
  });

  it('checks the storage file: durations, unknown keys, an open backend object', () => {
    const ok = { retention_time: '48h', backend: { type: 'sqlite', database_path: 'x.db' } };
    assert.equal(Value.Check(StorageManagerSchema, ok), true);
    assert.equal(Value.Check(StorageManagerSchema, { ...ok, retention_time: '2 days' }), false);
    assert.equal(Value.Check(StorageManagerSchema, { ...ok, retention: '48h' }), false);
    assert.equal(Value.Check(StorageManagerSchema, { ...ok, batch_size: 0 }), false);
    assert.equal(Value.Check(StorageManagerSchema, { retention_time: '48h' }), false);
  });
});
