/**
 * SQLite query latency at the storage level: the newest 100 events of one host in a time
 * range, over 1,000,000 stored events of 500 hosts (BENCH_QUERY_N overrides the count).
 * The rows are generated inside SQLite with the plugin's schema, the secondary indexes
 * rebuilt after the fill, so the set-up stays fast. No ANALYZE: the planner runs without
 * statistics, as in a fresh store.
 */
import { rmSync } from 'node:fs';
import type { StorageQuery } from '../../core/contracts/storage.ts';
import { freshStorage, HOSTS, START, STEP } from './_sqlite-data.ts';

const QUERIES = 2000;

export default async function bench(report: (line: string) => void): Promise<void> {
  const n = Number(process.env.BENCH_QUERY_N ?? 1_000_000);
  const { storage, dir } = await freshStorage('query');
  let t = performance.now();
  fill(storage.database, n);
  report(`filled ${n.toLocaleString('en-US')} events of ${HOSTS} hosts in ${secs(t)} s`);

  const span = BigInt(n) * STEP;
  // A quarter of the time span holds 500 events of each host at the default count.
  const window = n >= 400_000 ? span / 4n : span / 2n;
  const host = (k: number) => `node${String((k % HOSTS) + 1).padStart(3, '0')}`;
  const hostQuery = (k: number): StorageQuery => {
    const from = START + ((BigInt(k) * 7919n) % (span - window));
    return {
      kind: 'event',
      clusters: ['testcluster'],
      hostnames: [host(k * 31)],
      from,
      to: from + window,
      order: 'desc',
      limit: 100,
    };
  };
  const first = await storage.query(hostQuery(1));
  const ok = first.records.every(
    (r, i, all) => r.tags.hostname === host(31) && (i === 0 || r.time < all[i - 1]!.time),
  );
  if (!ok) throw new Error('the host query answered wrong records');
  report(
    `one answer: ${first.records.length} records, next cursor ${first.next ? 'set' : 'unset'}`,
  );

  for (const [label, make] of [
    ['newest 100 events of one host in a time range', hostQuery],
    [
      'newest 100 job events of the cluster',
      (): StorageQuery => ({
        kind: 'event',
        clusters: ['testcluster'],
        names: ['job'],
        order: 'desc',
        limit: 100,
      }),
    ],
  ] as const) {
    for (let k = 0; k < 100; k++) await storage.query(make(k));
    const times: number[] = [];
    for (let k = 0; k < QUERIES; k++) {
      t = performance.now();
      const page = await storage.query(make(k));
      times.push(performance.now() - t);
      if (page.records.length !== 100)
        throw new Error(`expected 100 records, got ${page.records.length}`);
    }
    times.sort((a, b) => a - b);
    const p = (q: number) =>
      times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(3);
    report(`${label}: p50 ${p(0.5)} ms, p99 ${p(0.99)} ms (${QUERIES} queries; target p50 < 2 ms)`);
  }
  await storage.close();
  rmSync(dir, { recursive: true, force: true });
}

function fill(db: import('better-sqlite3').Database, n: number): void {
  const indexes = db
    .prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'" +
        ' AND sql IS NOT NULL',
    )
    .all() as Array<{ name: string; sql: string }>;
  const isJob = 'i % 4 = 0';
  db.transaction(() => {
    for (const ix of indexes) db.exec(`DROP INDEX ${ix.name}`);
    db.prepare(
      `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i + 1 < ?)
       INSERT INTO events (time, received_at, cluster, name, hostname, type, type_id, function,
         job_id, tags, payload, key)
       SELECT ? + i * ?, ? + i * ?, 'testcluster', iif(${isJob}, 'job', 'nodestate'), h,
         'node', '0', iif(${isJob}, 'start_job', 'state'), iif(${isJob}, 100000 + i, NULL),
         json_object('hostname', h, 'type', 'node', 'type-id', '0',
           'function', iif(${isJob}, 'start_job', 'state')),
         printf('{"cluster":"testcluster","nodes":[{"hostname":"%s","states":["allocated"],'
           || '"jobsRunning":%d}]}', h, i % 5),
         i
       FROM (SELECT i, printf('node%03d', i % ${HOSTS} + 1) AS h FROM seq)`,
    ).run(n, START, STEP, START, STEP);
    for (const ix of indexes) db.exec(ix.sql);
  })();
}

function secs(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}
