/**
 * Analytics latency: counts per hour by name over 10 million events (20 names, 1,000 hosts,
 * 10 days), through real HTTP requests to the REST API (`GET /api/v1/analytics/counts`), on
 * DuckDB and SQLite side by side. Targets: DuckDB under 150 ms, at least 10 times faster
 * than SQLite. Each database is filled with SQL inside its own file (see _analytics-data.ts).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ApiContext } from '../../core/contracts/api.ts';
import type { Storage } from '../../core/contracts/storage.ts';
import { buildRestApp } from '../../plugins/api/rest/server.ts';
import duckdbPlugin from '../../plugins/storage/duckdb/index.ts';
import sqlitePlugin from '../../plugins/storage/sqlite/index.ts';
import { fillDuckDb, fillSqlite, STEP, T0 } from './_analytics-data.ts';

const EVENTS = 10_000_000;
const SECOND = 1_000_000_000n;
const FROM = T0 / SECOND;
const TO = (T0 + BigInt(EVENTS) * STEP) / SECOND;
const PATH = `/api/v1/analytics/counts?group_by=name&bucket=1h&from=${FROM}&to=${TO}`;
const logger = pino({ level: 'silent' });

interface Backend {
  name: 'duckdb' | 'sqlite';
  plugin: typeof duckdbPlugin | typeof sqlitePlugin;
  file: string;
  fill(path: string, n: number): Promise<void> | void;
  /** Requests timed in each round. */
  perRound: number;
}

const BACKENDS: Backend[] = [
  { name: 'duckdb', plugin: duckdbPlugin, file: 'events.duckdb', fill: fillDuckDb, perRound: 7 },
  { name: 'sqlite', plugin: sqlitePlugin, file: 'events.db', fill: fillSqlite, perRound: 1 },
];

// Rounds alternate the backends, so a burst of other work on the machine slows both alike.
const ROUNDS = 3;

/** A filled backend behind a listening REST API. */
interface Served {
  backend: Backend;
  dir: string;
  storage: Storage;
  app: Awaited<ReturnType<typeof buildRestApp>>;
  agent: Agent;
  port: number;
  fillS: number;
  mib: number;
  times: number[];
  body: string;
}

export default async function bench(report: (line: string) => void): Promise<void> {
  // Other work on the machine slows both backends; the load shows how quiet the run was.
  const load = () => loadavg()[0]!.toFixed(1);
  report(`load average at start ${load()} on ${cpus().length} cores`);
  const served: Served[] = [];
  try {
    for (const b of BACKENDS) {
      const s = await serve(b);
      served.push(s);
      report(
        `${b.name.padEnd(6)} filled ${EVENTS.toLocaleString('en-US')} events in ` +
          `${s.fillS.toFixed(1)} s (${s.mib.toFixed(0)} MiB)`,
      );
    }
    for (const s of served) s.body = await get(s.agent, s.port, PATH);
    for (let round = 0; round < ROUNDS; round++) {
      for (const s of served) {
        for (let i = 0; i < s.backend.perRound; i++) {
          const t0 = performance.now();
          s.body = await get(s.agent, s.port, PATH);
          s.times.push(performance.now() - t0);
        }
      }
    }
  } finally {
    for (const s of served) await unserve(s);
  }
  report(`load average at end ${load()}`);
  summarize(served, report);
}

function summarize(served: Served[], report: (line: string) => void): void {
  const [duck, lite] = served.map((s) => {
    const sorted = [...s.times].sort((x, y) => x - y);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    report(
      `${s.backend.name.padEnd(6)} counts per hour by name: median ${median.toFixed(1)} ms, ` +
        `min ${sorted[0]!.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms ` +
        `over ${sorted.length} requests`,
    );
    return { median, body: s.body };
  }) as [{ median: number; body: string }, { median: number; body: string }];
  const buckets = (JSON.parse(duck.body) as { buckets: { count: number }[] }).buckets;
  const total = buckets.reduce((n, r) => n + r.count, 0);
  report(
    `answer: ${buckets.length} rows, ${total.toLocaleString('en-US')} events counted; ` +
      `identical on both backends: ${duck.body === lite.body ? 'yes' : 'NO'}`,
  );
  const ratio = lite.median / duck.median;
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  report(
    `duckdb ${duck.median.toFixed(1)} ms (target < 150 ms: ${verdict(duck.median < 150)}), ` +
      `${ratio.toFixed(1)}x faster than sqlite (target >= 10x: ${verdict(ratio >= 10)})`,
  );
}

// Schema by the plugin, rows by SQL in the closed file, then the plugin again behind the API.
async function serve(b: Backend): Promise<Served> {
  const dir = mkdtempSync(join(tmpdir(), `cces-bench-counts-${b.name}-`));
  const make = () =>
    b.plugin.create({ database_path: b.file }, { name: b.name, logger, configDir: dir }) as Storage;
  try {
    const schema = make();
    await schema.open();
    await schema.close();
    const fill0 = performance.now();
    await b.fill(join(dir, b.file), EVENTS);
    const fillS = (performance.now() - fill0) / 1000;
    const mib = statSync(join(dir, b.file)).size / 2 ** 20;

    const storage = make();
    await storage.open();
    const app = await buildRestApp(
      {
        address: '127.0.0.1',
        port: 0,
        jwtPublicKey: '',
        maxBodySize: 1 << 20,
        idleTimeoutMs: 60_000,
        keepAlives: true,
      },
      apiContext(storage),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    return { backend: b, dir, storage, app, agent, port, fillS, mib, times: [], body: '' };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function unserve(s: Served): Promise<void> {
  s.agent.destroy();
  await s.app.close();
  await s.storage.close();
  rmSync(s.dir, { recursive: true, force: true });
}

function get(agent: Agent, port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ agent, port, host: '127.0.0.1', path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(body))));
    });
    req.on('error', reject);
    req.end();
  });
}

function apiContext(storage: Storage): ApiContext {
  return {
    storage,
    ingest: async () => ({ received: 0, stored: 0, duplicates: 0, skipped: 0, rejected: [] }),
    stats: () => ({}),
    ready: async () => true,
    logger,
    extensions: [],
  };
}
