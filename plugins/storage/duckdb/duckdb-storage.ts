/**
 * The DuckDB storage: events and logs in a DuckDB file, for fast analytics over many events.
 */
import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import type {
  CountRow,
  CountsQuery,
  ExportFile,
  ExportRequest,
  QueryPage,
  SqlLimits,
  SqlResult,
  RejectedItem,
  Storage,
  StorageQuery,
  StorageStats,
  StoredRejectedItem,
  WriteOutcome,
} from '../../../core/contracts/storage.ts';
import { createError, hasCode, type ErrorCode } from '../../../core/errors.ts';
import type { EventRecord, RecordKind } from '../../../core/record.ts';
import { countDuckDb } from './analytics.ts';
import { closeDatabase, openDatabase, type Database, type DatabaseSettings } from './database.ts';
import { Params } from './params.ts';
import { buildQuery, TABLES } from './query-sql.ts';
import { deleteRejected, insertRejected, selectRejected } from './rejected.ts';
import { rowToRecord } from './rows.ts';
import { SCHEMA_VERSION } from './schema.ts';
import { exportRange } from './export-file.ts';
import { Serial } from './serial.ts';
import { runSandboxedSql } from './sql-sandbox.ts';
import { writeBatch } from './write-batch.ts';

/** Options of {@link DuckDbStorage}. */
export interface DuckDbStorageOptions extends DatabaseSettings {
  logger: Logger;
}

/** A {@link Storage} on one DuckDB database file. */
export class DuckDbStorage implements Storage {
  #opts: DuckDbStorageOptions;
  #log: Logger;
  #db: Database | undefined;
  #writes = new Serial();
  #reads = new Serial();
  #closing: Promise<void> | undefined;

  constructor(opts: DuckDbStorageOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
  }

  async open(): Promise<void> {
    this.#db = await openDatabase(this.#opts);
    const { path } = this.#opts;
    const { foundVersion } = this.#db;
    this.#log.info({ path, schemaVersion: SCHEMA_VERSION, foundVersion }, 'duckdb storage open');
  }

  write(batch: readonly EventRecord[]): Promise<WriteOutcome[]> {
    const what = `a batch of ${batch.length} records`;
    return this.#write('CCES_ERR_STORAGE_WRITE', what, async (db) => {
      const { outcomes, state } = await writeBatch(db.writer, batch, db.state);
      db.state = state;
      return outcomes;
    });
  }

  query(q: StorageQuery): Promise<QueryPage> {
    if (q.limit <= 0) return Promise.resolve({ records: [] });
    return this.#read(async (db) => {
      const { sql, params } = buildQuery(q);
      const reader = await db.reader.runAndReadAll(sql, params.values, params.types);
      const records = reader.getRows().map((row) => rowToRecord(q.kind, row));
      if (records.length <= q.limit) return { records };
      records.length = q.limit;
      const last = records[records.length - 1]!;
      return { records, next: { time: last.time, id: last.id } };
    });
  }

  /** Counts per bucket and group (see analytics.ts). */
  counts(q: CountsQuery): Promise<CountRow[]> {
    return this.#read((db) => countDuckDb(db.reader, q));
  }

  /** Ad-hoc read-only SQL on a connection of its own (see sql-sandbox.ts). */
  async sql(text: string, limits: SqlLimits): Promise<SqlResult> {
    return runSandboxedSql(this.#usable().instance, text, limits);
  }

  /** A time range as a Parquet or CSV temp file (see export-file.ts). */
  async exportRange(req: ExportRequest): Promise<ExportFile> {
    try {
      return await exportRange(this.#usable().instance, req);
    } catch (err) {
      throw createError(
        'CCES_ERR_STORAGE_QUERY',
        `the DuckDB export of ${req.kind}s failed`,
        {},
        err,
      );
    }
  }

  deleteBefore(kind: RecordKind, before: bigint, limit: number): Promise<number> {
    return this.#write('CCES_ERR_STORAGE_WRITE', `the deletion of old ${kind}s`, async (db) => {
      const p = new Params();
      const table = TABLES[kind];
      const sql =
        `DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table}` +
        ` WHERE time < ${p.int(before)} LIMIT ${p.int(limit)})`;
      return (await db.writer.run(sql, p.values, p.types)).rowsChanged;
    });
  }

  writeRejected(items: readonly RejectedItem[]): Promise<void> {
    return this.#write('CCES_ERR_STORAGE_WRITE', 'rejected input', async (db) => {
      if (items.length === 0) return;
      db.nextRejectedId = await insertRejected(db.writer, items, db.nextRejectedId);
    });
  }

  listRejected(limit: number, beforeId?: bigint): Promise<StoredRejectedItem[]> {
    return this.#read((db) => selectRejected(db.reader, limit, beforeId));
  }

  pruneRejected(keep: number, before: bigint): Promise<number> {
    return this.#write('CCES_ERR_STORAGE_WRITE', 'the pruning of rejected input', (db) =>
      deleteRejected(db.writer, keep, before),
    );
  }

  stats(): Promise<StorageStats> {
    return this.#read(async (db) => {
      const sql =
        'SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM logs),' +
        ' (SELECT count(*) FROM rejected)';
      const [events, logs, rejected] = (await db.reader.runAndReadAll(sql)).getRows()[0]!;
      return {
        events: Number(events),
        logs: Number(logs),
        rejected: Number(rejected),
        bytes: fileSize(this.#opts.path) + fileSize(`${this.#opts.path}.wal`),
      };
    });
  }

  async ready(): Promise<boolean> {
    if (!this.#db || this.#closing) return false;
    try {
      await this.#read((db) => db.reader.run('SELECT 1'));
      return true;
    } catch (err) {
      this.#log.debug({ err }, 'duckdb not ready');
      return false;
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const db = this.#db;
    if (!db) return;
    await Promise.all([this.#writes.idle(), this.#reads.idle()]);
    this.#db = undefined;
    await closeDatabase(db);
    this.#log.info({ path: this.#opts.path }, 'duckdb storage closed');
  }

  #write<T>(code: ErrorCode, what: string, op: (db: Database) => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(this.#unavailable());
    const { path } = this.#opts;
    return this.#writes.run(async () => {
      const db = this.#usable();
      try {
        return await op(db);
      } catch (err) {
        throw createError(code, `the DuckDB database refused ${what}`, { path }, err);
      }
    });
  }

  #read<T>(op: (db: Database) => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(this.#unavailable());
    return this.#reads.run(async () => {
      const db = this.#usable();
      try {
        return await op(db);
      } catch (err) {
        // A query the caller got wrong is the caller's to fix, not a database failure.
        if (hasCode(err, 'CCES_ERR_QUERY_INVALID')) throw err;
        throw createError('CCES_ERR_STORAGE_QUERY', 'the DuckDB query failed', {}, err);
      }
    });
  }

  // Operations queued before close() still run; close() waits for them.
  #usable(): Database {
    if (this.#db) return this.#db;
    throw this.#unavailable();
  }

  #unavailable(): Error {
    return createError('CCES_ERR_STORAGE_UNAVAILABLE', 'the DuckDB storage is not open', {
      path: this.#opts.path,
    });
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    // No WAL file exists right after a checkpoint; it then adds nothing.
    return 0;
  }
}
