/**
 * REST query latency: the newest 100 events of one host in a time range, over 1,000,000
 * stored events (1,000 hosts), through real HTTP requests on a keep-alive connection to the
 * REST API over SQLite. The database is filled directly through the storage plugin.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ApiContext } from '../../core/contracts/api.ts';
import { recordKey, type EventRecord } from '../../core/record.ts';
import { buildRestApp } from '../../plugins/api/rest/server.ts';
import sqlitePlugin from '../../plugins/storage/sqlite/index.ts';
import type { SqliteStorage } from '../../plugins/storage/sqlite/sqlite-storage.ts';

const EVENTS = 1_000_000;
const HOSTS = 1_000;
const WRITE_BATCH = 20_000;
const WARMUP = 200;
const QUERIES = 2_000;
const T0 = 1_735_732_800_000_000_000n;
/** One event every 10 ms: the million span about 2.8 hours. */
const STEP = 10_000_000n;
const logger = pino({ level: 'silent' });

function eventAt(i: number): EventRecord {
  const time = T0 + BigInt(i) * STEP;
  const host = `node${String(i % HOSTS).padStart(4, '0')}`;
  const jobId = 100_000 + Math.floor(i / 64);
  const r: Omit<EventRecord, 'key'> = {
    kind: 'event',
    cluster: 'testcluster',
    name: i % 3 === 0 ? 'job' : 'nodestate',
    time,
    receivedAt: time + 1_000_000n,
    tags: {
      hostname: host,
      type: 'node',
      'type-id': '0',
      function: i % 2 ? 'start_job' : 'stop_job',
    },
    payload: `{"jobId":${jobId},"cluster":"testcluster","jobState":"running","numNodes":4}`,
    jobId: String(jobId),
  };
  return { ...r, key: recordKey(r) };
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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export default async function bench(report: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cces-bench-query-'));
  const storage = (await sqlitePlugin.create(
    { database_path: 'events.db' },
    { name: 'sqlite', logger, configDir: dir },
  )) as SqliteStorage;
  try {
    await storage.open();
    const fill0 = performance.now();
    for (let i = 0; i < EVENTS; i += WRITE_BATCH) {
      const batch = Array.from({ length: Math.min(WRITE_BATCH, EVENTS - i) }, (_, k) =>
        eventAt(i + k),
      );
      await storage.write(batch);
    }
    const fillS = (performance.now() - fill0) / 1000;

    const ctx: ApiContext = {
      storage,
      ingest: async () => ({ received: 0, stored: 0, duplicates: 0, skipped: 0, rejected: [] }),
      stats: () => ({}),
      ready: async () => true,
      logger,
      extensions: [],
    };
    const opts = { address: '127.0.0.1', port: 0, jwtPublicKey: '', maxBodySize: 1 << 20 };
    const app = await buildRestApp({ ...opts, idleTimeoutMs: 60_000, keepAlives: true }, ctx);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });

    // The middle half of the time span: about 500 events of each host, the newest 100 answer.
    const from = Number((T0 + (BigInt(EVENTS) * STEP) / 4n) / 1_000_000_000n);
    const to = Number((T0 + (BigInt(EVENTS) * STEP * 3n) / 4n) / 1_000_000_000n);
    const times: number[] = [];
    let items = 0;
    for (let q = 0; q < WARMUP + QUERIES; q++) {
      const host = `node${String((q * 7919) % HOSTS).padStart(4, '0')}`;
      const path = `/api/v1/events?hostname=${host}&from=${from}&to=${to}&limit=100`;
      const t0 = performance.now();
      const body = await get(agent, port, path);
      const ms = performance.now() - t0;
      if (q >= WARMUP) {
        times.push(ms);
        items += (JSON.parse(body) as { items: unknown[] }).items.length;
      }
    }
    agent.destroy();
    await app.close();

    times.sort((a, b) => a - b);
    report(
      `filled ${EVENTS.toLocaleString('en-US')} events (${HOSTS} hosts) in ${fillS.toFixed(1)} s`,
    );
    const p50 = percentile(times, 50).toFixed(2);
    const p99 = percentile(times, 99).toFixed(2);
    report(
      `rest query, newest 100 events of one host in a time range: p50 ${p50} ms, ` +
        `p99 ${p99} ms over ${QUERIES} requests ` +
        `(${(items / QUERIES).toFixed(0)} items each; target p50 < 2 ms)`,
    );
  } finally {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
