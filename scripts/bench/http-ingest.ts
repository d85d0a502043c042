/**
 * HTTP ingest end to end: concurrent keep-alive clients POST bodies of line protocol to a
 * real in-process REST API over SQLite in a temp dir; an event counts once its request was
 * answered 204, which happens only after its commit. Beside it, in the same run, the raw
 * better-sqlite3 insert rate of the same rows (same schema, same statement, transactions
 * of batch_size rows), and the write path without HTTP (the same bodies handed to `ingest`
 * directly) to tell the HTTP layer's share from the write path's. The three alternate for a
 * few rounds on fresh databases and the best round of each counts, so that load from other
 * processes on the machine skews the ratio less.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { pino } from 'pino';
import type { ApiContext } from '../../core/contracts/api.ts';
import type { Storage } from '../../core/contracts/storage.ts';
import { createIngest } from '../../core/ingest.ts';
import { decode } from '../../core/lineproto/index.ts';
import { classifyMessage } from '../../core/message.ts';
import { buildRecord, type EventRecord } from '../../core/record.ts';
import { Router } from '../../core/router.ts';
import { Stats } from '../../core/stats.ts';
import { StorageManager, storageManagerOptions } from '../../core/storage-manager.ts';
import { buildRestApp } from '../../plugins/api/rest/server.ts';
import sqlitePlugin from '../../plugins/storage/sqlite/index.ts';
import { INSERT_COLUMNS, recordParams } from '../../plugins/storage/sqlite/rows.ts';
import type { SqliteStorage } from '../../plugins/storage/sqlite/sqlite-storage.ts';
import { TABLES } from '../../plugins/storage/sqlite/query-sql.ts';
import { typicalLine } from './decode.ts';

const EVENTS = 200_000;
const ROUNDS = 3;
const LINES_PER_BODY = 5_000;
const CLIENTS = 4;
const BATCH_SIZE = 1_000;
const logger = pino({ level: 'silent' });

async function openStorage(dir: string): Promise<SqliteStorage> {
  const storage = (await sqlitePlugin.create(
    { database_path: 'events.db' },
    { name: 'sqlite', logger, configDir: dir },
  )) as SqliteStorage;
  await storage.open();
  return storage;
}

/** Raw rate: the same rows through the plugin's insert statement, no manager, no HTTP. */
async function rawRate(dir: string, records: EventRecord[]): Promise<Rates> {
  const storage = await openStorage(dir);
  const db = storage.database;
  const insert = {
    event: db.prepare(`INSERT INTO ${TABLES.event} (${INSERT_COLUMNS}) VALUES (${'?, '.repeat(15)}?)
      ON CONFLICT (time, key) DO NOTHING`),
    log: db.prepare(`INSERT INTO ${TABLES.log} (${INSERT_COLUMNS}) VALUES (${'?, '.repeat(15)}?)
      ON CONFLICT (time, key) DO NOTHING`),
  };
  const batch = db.transaction((rows: EventRecord[]) => {
    for (const r of rows) insert[r.kind].run(...recordParams(r));
  });
  const clock = startClock();
  for (let i = 0; i < records.length; i += BATCH_SIZE) {
    batch.immediate(records.slice(i, i + BATCH_SIZE));
  }
  const rates = clock(records.length);
  await storage.close();
  return { ...rates, refused: 0 };
}

function post(agent: Agent, port: number, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        port,
        host: '127.0.0.1',
        method: 'POST',
        path: '/api/write',
        headers: { 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Pipeline {
  ingest: ApiContext['ingest'];
  ctx: ApiContext;
  stats: Stats;
  close(): Promise<void>;
}

/** Storage, storage manager, router and ingest as the host wires them. */
async function pipeline(dir: string): Promise<Pipeline> {
  const storage: Storage = await openStorage(dir);
  const stats = new Stats();
  const cfg = { backend: { type: 'sqlite' }, retention_time: '0', batch_size: BATCH_SIZE };
  const manager = new StorageManager(storage, storageManagerOptions(cfg), { logger, stats });
  await manager.start();
  const router = new Router(manager, [], stats, logger);
  const ingest = createIngest({ router, storage: manager, stats, logger }, 'api');
  const ctx: ApiContext = {
    storage,
    ingest,
    stats: () => stats.snapshot(),
    ready: () => manager.ready(),
    logger,
    extensions: [],
  };
  const close = async () => {
    await manager.close();
    await storage.close();
  };
  return { ingest, ctx, stats, close };
}

/** Events per wall-clock second, and per CPU second of this process. */
interface Rates {
  rate: number;
  cpuRate: number;
  refused: number;
}

/**
 * Starts timing; the returned function gives the rates for `n` events. CPU time is the
 * figure that other processes on a shared machine disturb least.
 */
function startClock() {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  return (n: number) => {
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return { rate: (n / ms) * 1000, cpuRate: (n / (cpu.user + cpu.system)) * 1e6 };
  };
}

/** Runs `send` for every body with CLIENTS concurrent senders; returns stored events/s. */
async function drive(p: Pipeline, bodies: Buffer[], send: (b: Buffer) => Promise<boolean>) {
  let next = 0;
  let refused = 0;
  const client = async () => {
    while (next < bodies.length) if (!(await send(bodies[next++]!))) refused++;
  };
  const clock = startClock();
  await Promise.all(Array.from({ length: CLIENTS }, client));
  return { ...clock(p.stats.get('api', 'stored')), refused };
}

/** End-to-end rate through HTTP, the write path, the storage manager and SQLite. */
async function httpRate(dir: string, bodies: Buffer[]): Promise<Rates> {
  const p = await pipeline(dir);
  const opts = { address: '127.0.0.1', port: 0, jwtPublicKey: '', maxBodySize: 64 << 20 };
  const app = await buildRestApp({ ...opts, idleTimeoutMs: 60_000, keepAlives: true }, p.ctx);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as { port: number }).port;
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const out = await drive(p, bodies, async (b) => (await post(agent, port, b)) === 204);
  agent.destroy();
  await app.close();
  await p.close();
  return out;
}

/** The same bodies handed to the write path directly. */
async function directRate(dir: string, bodies: Buffer[]): Promise<Rates> {
  const p = await pipeline(dir);
  const out = await drive(p, bodies, async (b) => (await p.ingest(b)).rejected.length === 0);
  await p.close();
  return out;
}

export default async function bench(report: (line: string) => void): Promise<void> {
  const lines = Array.from({ length: EVENTS }, (_, i) => typicalLine(i));
  const bodies: Buffer[] = [];
  for (let i = 0; i < lines.length; i += LINES_PER_BODY) {
    bodies.push(Buffer.from(`${lines.slice(i, i + LINES_PER_BODY).join('\n')}\n`));
  }
  const received = 1_796_000_000_000_000_000n;
  const records = decode(lines.join('\n'), { now: received }).messages.map((m) => {
    const built = buildRecord(m, classifyMessage(m) as 'event' | 'log', received);
    if (!built.ok) throw new Error('bench input does not build');
    return built.record;
  });

  const dir = mkdtempSync(join(tmpdir(), 'cces-bench-http-'));
  const runs: Record<'raw' | 'http' | 'direct', Rates[]> = { raw: [], http: [], direct: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      runs.raw.push(await rawRate(join(dir, `raw${round}`), records));
      runs.http.push(await httpRate(join(dir, `http${round}`), bodies));
      runs.direct.push(await directRate(join(dir, `direct${round}`), bodies));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const best = (k: keyof typeof runs, f: 'rate' | 'cpuRate') =>
    Math.max(...runs[k].map((r) => r[f]));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const line = (k: keyof typeof runs) => {
    const wall = best(k, 'rate');
    const cpu = best(k, 'cpuRate');
    const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)}%`;
    return (
      `${fmt(wall)} events/s (${pct(wall, best('raw', 'rate'))} of raw); ` +
      `${fmt(cpu)} per CPU second (${pct(cpu, best('raw', 'cpuRate'))} of raw)`
    );
  };
  const refused = runs.http.reduce((n, r) => n + r.refused, 0);
  report(
    `http ingest, acknowledged: ${line('http')} [${EVENTS} events a round, best of ${ROUNDS}; ` +
      `${CLIENTS} keep-alive clients in this process, ${LINES_PER_BODY} lines a body, ` +
      `batch_size ${BATCH_SIZE}; ${refused} bodies refused]`,
  );
  report(`write path without HTTP, same bodies: ${line('direct')}`);
  report(`raw better-sqlite3 insert, same rows and schema: ${line('raw')}`);
  report('targets: >= 300,000 events/s and >= 80% of raw');
}
