/**
 * Postgres ingest: events/s of 80k typical records (3 events : 1 log) through the storage
 * manager and the postgres plugin (acknowledged = committed, concurrent writers of 500
 * records coalesced into batches), beside a raw `COPY ... FROM STDIN` of the same rows into
 * the same table definition by psql (`\copy`, one statement and one commit per table), in
 * the same run. A second baseline shows what committing every batch costs by itself: the
 * same rows, encoded beforehand, copied in batches of the same size with one commit each.
 * Each round runs every measurement into fresh schemas; the ratios are medians of the
 * ratios within a round (see summarise).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { recordKey, type EventRecord } from '../../core/record.ts';
import { Stats } from '../../core/stats.ts';
import { StorageManager } from '../../core/storage-manager.ts';
import { nowNanos } from '../../core/time.ts';
import { CopyFrom } from '../../plugins/storage/postgres/copy-from.ts';
import plugin from '../../plugins/storage/postgres/index.ts';
import type { PostgresStorage } from '../../plugins/storage/postgres/postgres-storage.ts';
import { copyRecord, INSERT_COLUMNS } from '../../plugins/storage/postgres/rows.ts';

const COUNT = 80_000;
const WRITE_SIZE = 500;
const WRITERS = 40;
const BATCH_SIZES = [10000, 5000, 1000];
const ROUNDS = 5;
const SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres' };
const TABLES = [
  ['event', 'events'],
  ['log', 'logs'],
] as const;
const logger = pino({ level: 'silent' });

/** A typical mix: job events with JSON payloads and node logs, 10 ms apart, within today. */
function typical(i: number, t0: bigint): EventRecord {
  const log = i % 4 === 3;
  const host = `node${String(i % 512).padStart(3, '0')}`;
  const tags: Record<string, string> = { hostname: host, type: 'node', 'type-id': '0' };
  if (log) tags.loglevel = i % 8 === 7 ? 'error' : 'info';
  else tags.function = i % 2 ? 'start_job' : 'stop_job';
  const time = t0 + BigInt(i) * 10_000_000n;
  const r: Omit<EventRecord, 'key'> = {
    kind: log ? 'log' : 'event',
    cluster: i % 3 ? 'testcluster' : 'clusterb',
    name: log ? 'ccms' : 'job',
    time,
    receivedAt: time + 5_000n,
    tags,
    payload: log ? `checkpoint of ${host} took ${i % 97}.5s` : jobPayload(i, host),
    jobId: log ? undefined : String(1000 + (i >> 1)),
  };
  return { ...r, key: recordKey(r) };
}

function jobPayload(i: number, host: string): string {
  const user = `user${String(i % 50).padStart(3, '0')}`;
  return (
    `{"jobId":${1000 + (i >> 1)},"cluster":"testcluster","user":"${user}",` +
    `"project":"proj001","numNodes":2,"startTime":${1735732800 + i},` +
    `"resources":[{"hostname":"${host}"}]}`
  );
}

async function openStorage(database: string, schema: string): Promise<PostgresStorage> {
  const config = {
    server: SERVER.host,
    port: SERVER.port,
    username: SERVER.user,
    database_path: database,
    schema,
  };
  const ctx = { name: 'bench', logger, configDir: '/' };
  const storage = (await plugin.create(config, ctx)) as PostgresStorage;
  await storage.open();
  return storage;
}

/** Plugin ingest through the storage manager; rate of acknowledged (committed) records. */
async function viaManager(db: string, schema: string, records: EventRecord[], size: number) {
  const storage = await openStorage(db, schema);
  const opts = {
    batchSize: size,
    flushTimeMs: 100,
    maxQueue: 1_000_000,
    retentionNs: 0n,
    retentionIntervalMs: 3_600_000,
    retentionChunk: 5000,
    rejectedMaxCount: 1000,
    rejectedMaxAgeNs: 3_600_000_000_000n,
  };
  const manager = new StorageManager(storage, opts, { logger, stats: new Stats() });
  let next = 0;
  let stored = 0;
  const writer = async () => {
    while (next < records.length) {
      const slice = records.slice(next, (next += WRITE_SIZE));
      for (const o of await manager.write(slice)) if (o.status === 'stored') stored++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: WRITERS }, writer));
  const ms = performance.now() - start;
  await manager.close();
  await storage.close();
  if (stored !== records.length) throw new Error(`stored ${stored} of ${records.length}`);
  return (records.length / ms) * 1000;
}

/** psql `\copy` of every row, one statement (and commit) per table. */
async function rawCopy(db: string, schema: string, records: EventRecord[], dir: string) {
  await (await openStorage(db, schema)).close();
  const commands: string[] = [];
  for (const [kind, table] of TABLES) {
    const file = join(dir, `${schema}-${table}.tsv`);
    const rows = records.filter((r) => r.kind === kind).map((r) => copyRecord(r)!);
    writeFileSync(file, rows.join(''));
    commands.push('-c', `\\copy "${schema}".${table} (${INSERT_COLUMNS}) FROM '${file}'`);
  }
  const args = ['-h', SERVER.host, '-p', String(SERVER.port), '-U', SERVER.user, '-d', db];
  const start = performance.now();
  execFileSync('psql', [...args, '-v', 'ON_ERROR_STOP=1', '-q', ...commands], { stdio: 'pipe' });
  return (records.length / (performance.now() - start)) * 1000;
}

/** Rows encoded beforehand, copied `size` at a time with one commit each. */
async function rawBatches(db: string, schema: string, records: EventRecord[], size: number) {
  await (await openStorage(db, schema)).close();
  const sql = TABLES.map(([, t]) => `COPY "${schema}".${t} (${INSERT_COLUMNS}) FROM STDIN`);
  const batches: Buffer[][] = [];
  for (let i = 0; i < records.length; i += size) {
    const slice = records.slice(i, i + size);
    batches.push(
      TABLES.map(([kind]) => {
        const rows = slice.filter((r) => r.kind === kind).map((r) => copyRecord(r)!);
        return Buffer.from(rows.join(''));
      }),
    );
  }
  const client = new pg.Client({ ...SERVER, database: db });
  await client.connect();
  const start = performance.now();
  for (const data of batches) {
    const copy = new CopyFrom(
      sql.join('; '),
      data.map((d) => [d]),
    );
    void client.query(copy);
    await copy.done;
  }
  const ms = performance.now() - start;
  await client.end();
  return (records.length / ms) * 1000;
}

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ ...SERVER, database: 'test' });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export default async function bench(report: (line: string) => void): Promise<void> {
  try {
    await admin('SELECT 1');
  } catch {
    report(`postgres not reachable on ${SERVER.host}:${SERVER.port}; skipped`);
    return;
  }
  const db = `cces_bench_${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'cces-pg-bench-'));
  await admin(`CREATE DATABASE ${db}`);
  try {
    const t0 = nowNanos() - 3_600_000_000_000n;
    const records = Array.from({ length: COUNT }, (_, i) => typical(i, t0));
    const raw: number[] = [];
    const batched = new Map<number, number[]>(BATCH_SIZES.map((b) => [b, []]));
    const plugin = new Map<number, number[]>(BATCH_SIZES.map((b) => [b, []]));
    let run = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const steps: Array<() => Promise<void>> = [
        async () => void raw.push(await rawCopy(db, `raw${run++}`, records, dir)),
      ];
      for (const b of BATCH_SIZES) {
        steps.push(async () => {
          plugin.get(b)!.push(await viaManager(db, `plugin${run++}`, records, b));
        });
        steps.push(async () => {
          batched.get(b)!.push(await rawBatches(db, `batched${run++}`, records, b));
        });
      }
      // Every other round runs backwards, so neither side always goes first.
      for (const step of round % 2 ? steps.reverse() : steps) await step();
    }
    summarise(report, raw, plugin, batched);
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Reports the best rate of each measurement and, per batch size, the median over rounds of
 * the plugin's rate relative to the raw rates of the same round: other work on the machine
 * moves absolute rates a lot, ratios taken side by side much less.
 */
function summarise(
  report: (line: string) => void,
  raw: number[],
  plugin: Map<number, number[]>,
  batched: Map<number, number[]>,
): void {
  const fmt = (x: number) => `${Math.round(x).toLocaleString('en-US')} events/s`;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const ratio = (xs: number[], of: number[]) => median(xs.map((x, i) => x / of[i]!));
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  report(`raw COPY (psql \\copy, one statement and commit per table): ${fmt(Math.max(...raw))}`);
  for (const b of BATCH_SIZES) {
    const p = plugin.get(b)!;
    const rb = batched.get(b)!;
    report(
      `batch_size ${b}: plugin via storage manager ${fmt(Math.max(...p))}, ` +
        `${pct(ratio(p, raw))} of raw COPY (target 80%); raw COPY committing every ${b} ` +
        `rows ${fmt(Math.max(...rb))}, plugin ${pct(ratio(p, rb))} of that`,
    );
  }
  report(
    `(${COUNT} records, ${WRITERS} writers of ${WRITE_SIZE}; best rates and median ` +
      `per-round ratios of ${ROUNDS} rounds)`,
  );
}
