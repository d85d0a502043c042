/**
 * DuckDB ingest: events/s of 200k typical records through the plugin's `write` (duplicate
 * check and commit included) in batches of 1000 and 10000, beside the raw appender rate of
 * the same rows into the same tables, one transaction a batch, without the duplicate check.
 * Each figure is the better of two runs.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { pino } from 'pino';
import { recordKey, type EventRecord } from '../../core/record.ts';
import { DuckDbStorage } from '../../plugins/storage/duckdb/duckdb-storage.ts';
import { appendRecord } from '../../plugins/storage/duckdb/rows.ts';
import { MIGRATIONS } from '../../plugins/storage/duckdb/schema.ts';

const COUNT = 200_000;
const T0 = 1_735_732_800_000_000_000n;

/** A typical mix: job events with JSON payloads and node logs, 10 ms apart. */
function typical(i: number): EventRecord {
  const log = i % 4 === 3;
  const tags: Record<string, string> = {
    hostname: `node${String(i % 512).padStart(3, '0')}`,
    type: 'node',
    'type-id': '0',
  };
  if (log) tags.loglevel = i % 8 === 7 ? 'error' : 'info';
  else tags.function = i % 2 ? 'start_job' : 'stop_job';
  const r: Omit<EventRecord, 'key'> = {
    kind: log ? 'log' : 'event',
    cluster: i % 3 ? 'testcluster' : 'clusterb',
    name: log ? 'ccms' : 'job',
    time: T0 + BigInt(i) * 10_000_000n,
    receivedAt: T0 + BigInt(i) * 10_000_000n + 5_000n,
    tags,
    payload: log ? `checkpoint of node${i % 512} took ${i % 97}.5s` : jobPayload(i),
    jobId: log ? undefined : String(1000 + (i >> 1)),
  };
  return { ...r, key: recordKey(r) };
}

function jobPayload(i: number): string {
  const user = `user${String(i % 50).padStart(3, '0')}`;
  return (
    `{"jobId":${1000 + (i >> 1)},"cluster":"testcluster","user":"${user}",` +
    `"project":"proj001","numNodes":2,"startTime":${1735732800 + i}}`
  );
}

/** Wall-clock rate and CPU time (all threads of the process) per record of one run. */
interface Figures {
  perSecond: number;
  cpuMicros: number;
}

async function measure(count: number, work: () => Promise<void>): Promise<Figures> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { perSecond: (count / ms) * 1000, cpuMicros: (used.user + used.system) / count };
}

async function viaPlugin(dir: string, records: EventRecord[], batch: number): Promise<Figures> {
  const storage = new DuckDbStorage({
    path: join(dir, `plugin-${batch}.duckdb`),
    logger: pino({ level: 'silent' }),
  });
  await storage.open();
  let stored = 0;
  const figures = await measure(records.length, async () => {
    for (let i = 0; i < records.length; i += batch) {
      const out = await storage.write(records.slice(i, i + batch));
      for (const o of out) if (o.status === 'stored') stored++;
    }
  });
  await storage.close();
  if (stored !== records.length) throw new Error(`stored ${stored} of ${records.length}`);
  return figures;
}

async function rawAppender(dir: string, records: EventRecord[], batch: number): Promise<Figures> {
  mkdirSync(dir, { recursive: true });
  const instance = await DuckDBInstance.create(join(dir, `raw-${batch}.duckdb`));
  const conn = await instance.connect();
  for (const sql of MIGRATIONS[0]!.statements) await conn.run(sql);
  let id = 1n;
  const figures = await measure(records.length, async () => {
    for (let i = 0; i < records.length; i += batch) {
      const slice = records.slice(i, i + batch);
      await conn.run('BEGIN TRANSACTION');
      for (const [kind, table] of KIND_TABLES) {
        const a = await conn.createAppender(table);
        for (const r of slice) if (r.kind === kind) appendRecord(a, id++, r);
        a.closeSync();
      }
      await conn.run('COMMIT');
    }
  });
  conn.closeSync();
  instance.closeSync();
  return figures;
}

const KIND_TABLES = [
  ['event', 'events'],
  ['log', 'logs'],
] as const;

function best(a: Figures | undefined, b: Figures): Figures {
  return a && a.perSecond >= b.perSecond ? a : b;
}

function show(f: Figures): string {
  const rate = Math.round(f.perSecond).toLocaleString('en');
  return `${rate} ev/s (${f.cpuMicros.toFixed(1)} µs CPU/event)`;
}

export default async function bench(report: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cces-bench-duckdb-'));
  try {
    const records = Array.from({ length: COUNT }, (_, i) => typical(i));
    for (const batch of [1000, 10_000]) {
      // Best of two, alternating, so a burst of load from elsewhere hits both sides alike.
      let plugin: Figures | undefined;
      let raw: Figures | undefined;
      for (const run of [1, 2]) {
        plugin = best(plugin, await viaPlugin(join(dir, `p${run}`), records, batch));
        raw = best(raw, await rawAppender(join(dir, `r${run}`), records, batch));
      }
      const ratio = ((plugin!.perSecond / raw!.perSecond) * 100).toFixed(0);
      report(`batch ${String(batch).padStart(5)}: plugin write ${show(plugin!)}`);
      report(`             raw appender ${show(raw!)}; plugin at ${ratio}% of raw`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
