/**
 * SQLite ingest: (a) raw better-sqlite3, the plugin's own insert statement on the same
 * schema with precomputed row parameters, in transactions of batch_size; (b) the same
 * records through StorageManager + SQLite plugin, written by many small writers
 * (acknowledged = committed); (a0) raw as (a) but with SQLite's own inline checkpoints
 * instead of the plugin's checkpoint worker. They alternate in rounds, each into its own
 * database, so all see the same load of the machine. BENCH_N overrides the count (500,000).
 */
import { rmSync } from 'node:fs';
import type { WriteOutcome } from '../../core/contracts/storage.ts';
import type { EventRecord } from '../../core/record.ts';
import { Stats } from '../../core/stats.ts';
import { StorageManager, storageManagerOptions } from '../../core/storage-manager.ts';
import { TABLES } from '../../plugins/storage/sqlite/query-sql.ts';
import { insertSql, recordParams } from '../../plugins/storage/sqlite/rows.ts';
import { freshStorage, quietLogger, typicalEvents } from './_sqlite-data.ts';

const BATCH = 1000;
const WRITER = 100;
const IN_FLIGHT = 50_000;
const ROUNDS = 5;

export default async function bench(report: (line: string) => void): Promise<void> {
  const n = Number(process.env.BENCH_N ?? 500_000);
  const records = typicalEvents(n);
  let rows: unknown[][] | undefined = records.map(recordParams);
  report(`records: ${n} typical events, transactions of ${BATCH}, synchronous=NORMAL, WAL`);

  // (a) runs on a database opened by the plugin (its pragmas and checkpoint worker), (a0) on
  // plain better-sqlite3 in WAL mode with SQLite's inline checkpoints.
  const raw = await freshStorage('raw');
  const plain = await freshStorage('plain', { background_checkpoint: false });
  const inserters = [raw, plain].map(({ storage }) => {
    const insert = storage.database.prepare(insertSql(TABLES.event));
    return storage.database.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(...rows![i]!);
    });
  });
  const mine = await freshStorage('manager');
  const stats = new Stats();
  const opts = { ...storageManagerOptions({ backend: { type: 'sqlite' } }), retentionNs: 0n };
  const manager = new StorageManager(mine.storage, opts, { logger: quietLogger, stats });
  await manager.start();

  const rawMs = [0, 0];
  let managerMs = 0;
  const round = Math.ceil(n / ROUNDS);
  for (let from = 0; from < n; from += round) {
    const to = Math.min(n, from + round);
    for (const [k, tx] of inserters.entries()) {
      const t = performance.now();
      for (let i = from; i < to; i += BATCH) tx.immediate(i, Math.min(to, i + BATCH));
      rawMs[k]! += performance.now() - t;
    }
    const t = performance.now();
    await writeThroughManager(manager, records, from, to);
    managerMs += performance.now() - t;
  }
  rows = undefined;

  const s = stats.snapshot().storage!;
  await manager.close();
  for (const db of [raw, plain, mine]) {
    await db.storage.close();
    rmSync(db.dir, { recursive: true, force: true });
  }
  const [rawRate, plainRate] = rawMs.map((ms) => n / (ms / 1000)) as [number, number];
  const managerRate = n / (managerMs / 1000);
  report(`(a)  raw better-sqlite3 insert, plugin's connection:    ${fmt(rawRate)} rows/s`);
  report(`(a0) raw better-sqlite3 insert, inline checkpoints:     ${fmt(plainRate)} rows/s`);
  report(`(b)  StorageManager + sqlite plugin, acknowledged:     ${fmt(managerRate)} records/s`);
  report(`     stored ${s.stored}, batches ${s.batches}, writers of ${WRITER} records`);
  report(`ratio (b)/(a): ${pct(managerRate, rawRate)} (target >= 80%)`);
  report(`ratio (b)/(a0): ${pct(managerRate, plainRate)}`);
}

function pct(a: number, b: number): string {
  return `${((a / b) * 100).toFixed(1)}%`;
}

async function writeThroughManager(
  manager: StorageManager,
  records: EventRecord[],
  from: number,
  to: number,
): Promise<void> {
  const pending: Array<Promise<WriteOutcome[]>> = [];
  let head = 0;
  for (let i = from; i < to; i += WRITER) {
    pending.push(manager.write(records.slice(i, Math.min(to, i + WRITER))));
    // Keeps about IN_FLIGHT records queued, as many concurrent clients would.
    while ((pending.length - head) * WRITER > IN_FLIGHT) await pending[head++];
  }
  await Promise.all(pending.slice(head));
}

function fmt(rate: number): string {
  return Math.round(rate).toLocaleString('en-US');
}
