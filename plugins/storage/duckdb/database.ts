/**
 * Opening and closing the DuckDB database: one instance, a writer and a reader connection.
 */
import { dirname } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { createError, hasCode } from '../../../core/errors.ts';
import { makeDirs } from '../../../core/make-dirs.ts';
import { firstLineOf, migrate } from './schema.ts';
import { loadWriterState, STAGE_DDL, type WriterState } from './write-batch.ts';

/** Where and how to open the database. */
export interface DatabaseSettings {
  /** Absolute path of the database file; its folder is created. */
  path: string;
  /** DuckDB worker threads; DuckDB's default (one per core) when absent. */
  threads?: number;
  /** DuckDB memory limit such as `1GB`; DuckDB's default (80% of RAM) when absent. */
  memoryLimit?: string;
  /** WAL size that triggers an automatic checkpoint; DuckDB's default (16MB) when absent. */
  checkpointThreshold?: string;
}

/** An open database and what the writer needs to go on where the last process stopped. */
export interface Database {
  instance: DuckDBInstance;
  /** Writes, retention and pruning, one at a time. */
  writer: DuckDBConnection;
  /** Queries and stats, so they need not wait for a write to commit. */
  reader: DuckDBConnection;
  state: WriterState;
  nextRejectedId: bigint;
  /** The schema version the file had before this open migrated it (0: new file). */
  foundVersion: number;
}

/**
 * Opens (creating the file and its folder when needed) and migrates the database. Throws
 * `CCES_ERR_STORAGE_OPEN`.
 */
export async function openDatabase(settings: DatabaseSettings): Promise<Database> {
  const { path, threads, memoryLimit, checkpointThreshold } = settings;
  const config: Record<string, string> = {};
  if (threads !== undefined) config.threads = String(threads);
  if (memoryLimit !== undefined) config.memory_limit = memoryLimit;
  if (checkpointThreshold !== undefined) config.checkpoint_threshold = checkpointThreshold;
  const opened: { instance?: DuckDBInstance; conns: DuckDBConnection[] } = { conns: [] };
  try {
    makeDirs(dirname(path));
    const instance = (opened.instance = await DuckDBInstance.create(path, config));
    const writer = await instance.connect();
    opened.conns.push(writer);
    const reader = await instance.connect();
    opened.conns.push(reader);

    const foundVersion = await migrate(writer);
    await writer.run(STAGE_DDL);
    const state = await loadWriterState(writer);
    const rows = (await writer.runAndReadAll('SELECT max(id) FROM rejected')).getRows();
    const nextRejectedId = ((rows[0]![0] as bigint | null) ?? 0n) + 1n;
    return { instance, writer, reader, state, nextRejectedId, foundVersion };
  } catch (err) {
    // The connections hold the file lock too; all must go for a later open to succeed.
    for (const conn of opened.conns) conn.closeSync();
    opened.instance?.closeSync();
    if (hasCode(err, 'CCES_ERR_STORAGE_OPEN')) throw err;
    throw createError(
      'CCES_ERR_STORAGE_OPEN',
      `cannot open the DuckDB database ${path}: ${firstLineOf(err)}`,
      { path },
      err,
    );
  }
}

/** Folds the WAL into the database file, then releases the connections and the instance. */
export async function closeDatabase(db: Database): Promise<void> {
  try {
    // The next open then need not replay the WAL.
    await db.writer.run('CHECKPOINT');
  } finally {
    db.reader.closeSync();
    db.writer.closeSync();
    db.instance.closeSync();
  }
}
