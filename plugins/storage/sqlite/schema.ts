/**
 * The SQLite schema and its migrations. The schema version lives in `PRAGMA user_version`;
 * each migration runs in its own transaction together with the version bump, so a crash
 * leaves the database at one version or the next, never between.
 */
import type Database from 'better-sqlite3';
import { createError } from '../../../core/errors.ts';

/** One step from `version - 1` to `version`. */
export interface Migration {
  version: number;
  /** SQL run as one script. */
  sql: string;
}

// Events and logs live in two tables of the same shape rather than one table with a kind
// column: every query and every retention pass concerns one kind only, so each kind gets
// smaller indexes without a leading kind column, and event retention never walks logs.
function recordTable(table: 'events' | 'logs'): string {
  return `
    CREATE TABLE ${table} (
      id INTEGER PRIMARY KEY,
      time INTEGER NOT NULL,
      received_at INTEGER NOT NULL,
      cluster TEXT NOT NULL,
      name TEXT NOT NULL,
      hostname TEXT,
      type TEXT,
      type_id TEXT,
      stype TEXT,
      stype_id TEXT,
      function TEXT,
      loglevel TEXT,
      job_id TEXT,
      tags TEXT NOT NULL,
      payload TEXT NOT NULL,
      extra TEXT,
      key INTEGER NOT NULL,
      UNIQUE (time, key)
    );
    -- UNIQUE (time, key) also serves time ranges and retention. The rowid (id) is the hidden
    -- last column of every index, so these deliver ORDER BY time, id without a sort.
    CREATE INDEX ${table}_hostname_time ON ${table} (hostname, time);
    CREATE INDEX ${table}_name_time ON ${table} (name, time);
    CREATE INDEX ${table}_cluster_time ON ${table} (cluster, time);
    -- Only job events carry a jobId, so this partial index stays small.
    CREATE INDEX ${table}_job_id ON ${table} (job_id) WHERE job_id IS NOT NULL;
  `;
}

/** Every migration, in order. The last one's version is the current schema version. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      ${recordTable('events')}
      ${recordTable('logs')}
      CREATE TABLE rejected (
        id INTEGER PRIMARY KEY,
        raw TEXT NOT NULL,
        reason TEXT NOT NULL,
        source TEXT NOT NULL,
        line INTEGER,
        "column" INTEGER,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX rejected_received_at ON rejected (received_at);
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * Brings the database to the newest version of `migrations`; returns the version found.
 * Throws `CCES_ERR_STORAGE_OPEN` for a database newer than this code or a failing step.
 */
export function migrate(db: Database.Database, migrations = MIGRATIONS): number {
  const found = db.pragma('user_version', { simple: true }) as number;
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
      db.transaction(() => {
        db.exec(m.sql);
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } catch (err) {
      throw createError(
        'CCES_ERR_STORAGE_OPEN',
        `migrating the database to schema version ${m.version} failed`,
        { from: found, to: m.version },
        err,
      );
    }
  }
  return found;
}
