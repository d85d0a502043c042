/**
 * The analytics data set, written straight into a backend's database file with one SQL
 * statement after the storage plugin created its schema: going through the write path
 * would take far longer than the queries under test. Both backends get the same rows.
 *
 * Row i: time T0 + i * 86.4 ms (10 million rows span 10 days), host node0000 ... node0999,
 * cluster alex or fritz, and one of 20 names drawn with a skew (the most common name about
 * 22% of the rows, the rarest about 1%), as job and node-state events are.
 */
import Database from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';

/** First event time (2025-01-01T00:00:00Z), ns. */
export const T0 = 1_735_689_600_000_000_000n;
/** Time step between rows, ns. */
export const STEP = 86_400_000n;

/** The event names, most common first. */
export const NAMES = [
  'nodestate',
  'job',
  'health_check',
  'node_down',
  'node_up',
  'node_drain',
  'node_resume',
  'gpu_xid',
  'ib_link_down',
  'ib_link_up',
  'filesystem_full',
  'cpu_throttle',
  'memory_ecc',
  'power_cap',
  'bmc_alert',
  'reboot',
  'reservation_start',
  'reservation_end',
  'partition_update',
  'maintenance',
];

interface Dialect {
  /** Integer division. */
  div(a: string, b: string): string;
  /** The rows 0 .. n-1 as column `i`, and the INSERT that reads them. */
  insert(n: number, table: string, select: string): string;
}

const SQLITE: Dialect = {
  div: (a, b) => `(${a}) / (${b})`,
  insert: (n, table, select) =>
    `WITH RECURSIVE r(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM r WHERE i < ${n - 1})` +
    ` INSERT INTO ${table} ${select} FROM r`,
};

const DUCKDB: Dialect = {
  div: (a, b) => `(${a}) // (${b})`,
  insert: (n, table, select) =>
    `INSERT INTO ${table} ${select} FROM (SELECT range AS i FROM range(${n}))`,
};

// u is a multiplicative hash of i in [0, 1000003); name index floor(20 * (u / P)^2).
function selectSql(d: Dialect): string {
  const u = '((i * 2654435761) % 1000003)';
  const idx = d.div(`${u} * ${u}`, '50000300000');
  const name = `CASE ${idx} ${NAMES.map((n, k) => `WHEN ${k} THEN '${n}'`).join(' ')} END`;
  const host = `printf('node%04d', (i * 7919) % 1000)`;
  const time = `(${T0} + i * ${STEP})`;
  const jobId = `CASE WHEN ${idx} = 1 THEN CAST(100000 + ${d.div('i', '40')} AS TEXT) END`;
  const fn = `CASE WHEN ${idx} = 1 THEN 'start_job' END`;
  return (
    `SELECT i + 1, ${time}, ${time} + 1000000,` +
    ` CASE WHEN (i * 7919) % 1000 < 600 THEN 'fritz' ELSE 'alex' END, ${name}, ${host},` +
    ` 'node', NULL, NULL, NULL, ${fn}, NULL, ${jobId},` +
    ` '{"hostname":"' || ${host} || '"}', '{"seq":' || CAST(i AS TEXT) || ',"state":"ok"}',` +
    ' NULL, i'
  );
}

/** Appends `n` rows to the events of the DuckDB file at `path` (no store may hold it). */
export async function fillDuckDb(path: string, n: number): Promise<void> {
  const instance = await DuckDBInstance.create(path);
  const conn = await instance.connect();
  try {
    await conn.run(DUCKDB.insert(n, 'events', selectSql(DUCKDB)));
    await conn.run('CHECKPOINT');
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

/**
 * Appends `n` rows to the events of the SQLite file at `path` (no store may hold it). The
 * secondary indexes are dropped for the insert and built again afterwards from their own
 * SQL, which is much faster than keeping them up to date row by row.
 */
export function fillSqlite(path: string, n: number): void {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -1000000');
    const indexes = db
      .prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events'" +
          ' AND sql IS NOT NULL',
      )
      .all() as { name: string; sql: string }[];
    db.transaction(() => {
      for (const ix of indexes) db.exec(`DROP INDEX ${ix.name}`);
      db.exec(SQLITE.insert(n, 'events', selectSql(SQLITE)));
      for (const ix of indexes) db.exec(ix.sql);
    })();
    db.pragma('journal_mode = WAL');
  } finally {
    db.close();
  }
}
