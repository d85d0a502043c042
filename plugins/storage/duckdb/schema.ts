/**
 * The DuckDB schema and its migrations. The version lives in the one-row table
 * `schema_version`; each migration runs in one transaction with its version bump, so a crash
 * leaves the database at one version or the next, never between.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { createError } from '../../../core/errors.ts';
import { inTransaction } from './transaction.ts';

/** One step from `version - 1` to `version`. */
export interface Migration {
  version: number;
  /** SQL statements, run in order. */
  statements: string[];
}

// The columns are those of the SQLite backend, with time as BIGINT ns so analytics can
// bucket with integer division. There is deliberately no PRIMARY KEY or UNIQUE (time, key):
// DuckDB keeps such an ART index in memory and checks it on every append, which costs more
// than the write path's own duplicate check against the batch's time range (see
// write-batch.ts). Row-group min/max statistics on `time` serve ranges and retention.
function recordTable(table: 'events' | 'logs'): string {
  return `CREATE TABLE ${table} (
    id BIGINT NOT NULL,
    time BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    cluster VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    hostname VARCHAR,
    type VARCHAR,
    type_id VARCHAR,
    stype VARCHAR,
    stype_id VARCHAR,
    "function" VARCHAR,
    loglevel VARCHAR,
    job_id VARCHAR,
    tags JSON NOT NULL,
    payload VARCHAR NOT NULL,
    extra JSON,
    key BIGINT NOT NULL
  )`;
}

/** Every migration, in order. The last one's version is the current schema version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: [
      recordTable('events'),
      recordTable('logs'),
      `CREATE TABLE rejected (
        id BIGINT NOT NULL,
        raw VARCHAR NOT NULL,
        reason VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        line INTEGER,
        "column" INTEGER,
        received_at BIGINT NOT NULL
      )`,
    ],
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the database to the newest version of `migrations`; returns the version found.
 * Throws `CCES_ERR_STORAGE_OPEN` for a database newer than this code or a failing step.
 */
export async function migrate(conn: DuckDBConnection, migrations = MIGRATIONS): Promise<number> {
  await conn.run('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const rows = (await conn.runAndReadAll('SELECT max(version) FROM schema_version')).getRows();
  const found = Number(rows[0]?.[0] ?? 0);
  const latest = migrations[migrations.length - 1]!.version;
  if (found > latest) {
    throw createError(
      'CCES_ERR_STORAGE_OPEN',
      `the database has schema version ${found}, newer than this store knows (${latest})`,
      { found, latest },
    );
  }

  for (const m of migrations) {
    if (m.version <= found) continue;
    try {
      await inTransaction(conn, async () => {
        for (const sql of m.statements) await conn.run(sql);
        await conn.run('DELETE FROM schema_version');
        await conn.run('INSERT INTO schema_version VALUES (?)', [m.version]);
      });
    } catch (err) {
      throw createError(
        'CCES_ERR_STORAGE_OPEN',
        `migrating the database to schema version ${m.version} failed: ${firstLineOf(err)}`,
        { from: found, to: m.version },
        err,
      );
    }
  }
  return found;
}

/** The first line of what DuckDB or the file system said, for an error message. */
export function firstLineOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n', 1)[0]!.trim();
}
