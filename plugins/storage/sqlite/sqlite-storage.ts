/**
 * The SQLite storage: better-sqlite3 in WAL mode. better-sqlite3 is synchronous: queries,
 * retention and rejected input run at once inside the returned promise on the main
 * connection. With `writerThread` on, event and log batches go to a writer thread with its
 * own connection (see writer.ts); either way a write batch is one transaction.
 */
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type {
  CountRow,
  CountsQuery,
  QueryPage,
  RejectedItem,
  Storage,
  StorageQuery,
  StorageStats,
  StoredRejectedItem,
  WriteOutcome,
} from '../../../core/contracts/storage.ts';
import { createError } from '../../../core/errors.ts';
import { makeDirs } from '../../../core/make-dirs.ts';
import type { EventRecord, RecordKind } from '../../../core/record.ts';
import { countSqlite } from './analytics.ts';
import { Checkpointer, SAFETY_NET_PAGES } from './checkpointer.ts';
import { buildQuery, TABLES } from './query-sql.ts';
import { insertSql, type RecordRow, recordParams, rowProblem, rowToRecord } from './rows.ts';
import { migrate } from './schema.ts';
import { WriterThread } from './writer.ts';

/** Settings of one SQLite database. */
export interface SqliteOptions {
  /** Absolute path of the database file. */
  path: string;
  busyTimeoutMs: number;
  /**
   * `NORMAL`: in WAL mode a commit survives a killed process (kill -9) but not a power
   * loss; `FULL` syncs the WAL on every commit and survives both; `EXTRA` also syncs on
   * checkpoints.
   */
  synchronous: 'NORMAL' | 'FULL' | 'EXTRA';
  /** SQLite's `cache_size`: pages when positive, KiB when negative. */
  cacheSize: number;
  /** Checkpoint in a worker thread (see checkpointer.ts) instead of inside commits. */
  backgroundCheckpoint: boolean;
  /** Insert events and logs in a worker thread (see writer.ts). */
  writerThread: boolean;
  /** Batches smaller than this stay on the main connection while the thread is idle. */
  threadMinRows: number;
  logger: Logger;
}

const STORED: WriteOutcome = Object.freeze({ status: 'stored' });
const DUPLICATE: WriteOutcome = Object.freeze({ status: 'duplicate' });

// Errors that concern one statement only; anything else (I/O, full disk, lock) aborts
// the batch.
const ROW_ERRORS = new Set(['SQLITE_TOOBIG', 'SQLITE_MISMATCH']);

// Errors after which the transaction was rolled back and the same writes may commit once
// the cause is gone (space freed, the file writable again). SQLITE_BUSY is not among them:
// busy_timeout has already waited, and a lock held that long is answered at once.
const TRANSIENT = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|PERM)/;

const STATEMENT_CACHE = 200;

/** A SQLite database holding events, logs and rejected input. */
export class SqliteStorage implements Storage {
  readonly #opts: SqliteOptions;
  #db: Database.Database | undefined;
  #insert = new Map<RecordKind, Database.Statement>();
  #writeTx: Database.Transaction<(batch: readonly EventRecord[]) => WriteOutcome[]> | undefined;
  #queries = new Map<string, Database.Statement>();
  #closing: Promise<void> | undefined;
  #checkpointer: Checkpointer | undefined;
  #writer: WriterThread | undefined;
  /**
   * Batches the storage manager may have in flight: four while the writer thread runs (one
   * committing, the others waiting in its inbox), else one. The main thread decodes a large
   * body in one go; the batches waiting meanwhile keep the writer busy (with two, it idled
   * for about a third of the time in the HTTP bench). A plain property, not a getter, so
   * that wrappers made with Object.create read it too.
   */
  writeConcurrency = 1;

  constructor(opts: SqliteOptions) {
    this.#opts = opts;
  }

  /** The writer thread while it runs, for tests of this plugin. */
  get writerThread(): WriterThread | undefined {
    return this.#writer?.alive ? this.#writer : undefined;
  }

  /** The open connection, for tests and tools of this plugin. */
  get database(): Database.Database {
    return this.#conn();
  }

  async open(): Promise<void> {
    const { path, busyTimeoutMs, synchronous, cacheSize, logger } = this.#opts;
    try {
      makeDirs(dirname(path));
      const db = new Database(path, { timeout: busyTimeoutMs });
      this.#db = db;
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${synchronous}`);
      db.pragma(`cache_size = ${Math.trunc(cacheSize)}`);
      // Keeps the WAL file from staying large after a burst once it has been checkpointed.
      db.pragma('journal_size_limit = 67108864');
      const found = migrate(db);
      if (this.#opts.backgroundCheckpoint) {
        db.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
        this.#checkpointer = new Checkpointer(path, synchronous, logger);
      }
      this.#writeTx = db.transaction((batch: readonly EventRecord[]) =>
        batch.map((r) => this.#insertOne(r)),
      );
      for (const kind of ['event', 'log'] as const) {
        this.#insert.set(kind, db.prepare(insertSql(TABLES[kind])));
      }
      if (this.#opts.writerThread) {
        const autocheckpoint = this.#opts.backgroundCheckpoint ? SAFETY_NET_PAGES : undefined;
        const sql = { event: insertSql(TABLES.event), log: insertSql(TABLES.log) };
        const settings = { path, busyTimeoutMs, synchronous, cacheSize, autocheckpoint };
        const rowErrors = [...ROW_ERRORS];
        this.#writer = new WriterThread({ ...settings, insertSql: sql, rowErrors }, logger, () => {
          this.writeConcurrency = 1;
        });
        this.writeConcurrency = 4;
      }
      // Both threads start beside the main one; waiting here keeps their start-up (loading
      // better-sqlite3, opening the file) out of the first batches. A thread that fails to
      // start has logged why, and the main connection does its work.
      await Promise.all([this.#writer?.started, this.#checkpointer?.started]);
      logger.info(
        { path, schemaVersionFound: found, synchronous, writerThread: this.#writer !== undefined },
        'sqlite storage open',
      );
    } catch (err) {
      await this.#writer?.close();
      await this.#checkpointer?.close();
      this.#db?.close();
      this.#db = undefined;
      if ((err as { code?: string }).code === 'CCES_ERR_STORAGE_OPEN') throw err;
      throw createError(
        'CCES_ERR_STORAGE_OPEN',
        `cannot open the SQLite database ${path}: ${(err as Error).message}`,
        { path },
        err,
      );
    }
  }

  async write(batch: readonly EventRecord[]): Promise<WriteOutcome[]> {
    try {
      this.#conn();
      const writer = this.#writer;
      // A small batch costs less on this thread than a round trip to the worker, which
      // waits for this thread's event loop: with batches of 50 under HTTP overload, all of
      // them on the thread cut what was stored to a quarter. The worker must be idle, so
      // that the two connections never wait for each other's write lock.
      if (writer?.alive && (batch.length >= this.#opts.threadMinRows || writer.busy)) {
        return await this.#writeOnThread(batch);
      }
      return this.#writeTx!.immediate(batch);
    } catch (err) {
      throw writeError(err, `the SQLite database refused a batch of ${batch.length} records`, {
        records: batch.length,
      });
    }
  }

  async #writeOnThread(batch: readonly EventRecord[]): Promise<WriteOutcome[]> {
    const outcomes = new Array<WriteOutcome>(batch.length);
    const kinds: number[] = [];
    const rows: unknown[][] = [];
    const at: number[] = [];
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!;
      const problem = rowProblem(r);
      if (problem) {
        outcomes[i] = { status: 'rejected', reason: problem };
        continue;
      }
      kinds.push(r.kind === 'event' ? 0 : 1);
      rows.push(recordParams(r));
      at.push(i);
    }
    if (rows.length === 0) return outcomes;
    const reply = await this.#writer!.write(kinds, rows);
    for (let j = 0; j < at.length; j++) {
      const code = reply.outcomes[j];
      outcomes[at[j]!] =
        code === 0
          ? STORED
          : code === 1
            ? DUPLICATE
            : { status: 'rejected', reason: reply.reasons[j]! };
    }
    return outcomes;
  }

  async query(q: StorageQuery): Promise<QueryPage> {
    if (q.limit <= 0) return { records: [] };
    const { sql, params } = buildQuery(q);
    let rows: RecordRow[];
    try {
      rows = this.#prepared(sql).all(...params) as RecordRow[];
    } catch (err) {
      throw createError('CCES_ERR_STORAGE_QUERY', 'the SQLite query failed', { kind: q.kind }, err);
    }
    const more = rows.length > q.limit;
    if (more) rows.pop();
    const records = rows.map((row) => rowToRecord(q.kind, row));
    const last = records[records.length - 1];
    return more && last ? { records, next: { time: last.time, id: last.id } } : { records };
  }

  /** Counts per bucket and group (see analytics.ts). */
  async counts(q: CountsQuery): Promise<CountRow[]> {
    return countSqlite(this.#conn(), q);
  }

  async deleteBefore(kind: RecordKind, before: bigint, limit: number): Promise<number> {
    const table = TABLES[kind];
    const sql = `DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE time < ? LIMIT ?)`;
    return this.#change(sql, [before, limit]);
  }

  async writeRejected(items: readonly RejectedItem[]): Promise<void> {
    try {
      const db = this.#conn();
      const insert = this.#prepared(
        'INSERT INTO rejected (raw, reason, source, line, "column", received_at)' +
          ' VALUES (?, ?, ?, ?, ?, ?)',
      );
      db.transaction(() => {
        for (const it of items) {
          insert.run(
            it.raw,
            it.reason,
            it.source,
            it.line ?? null,
            it.column ?? null,
            it.receivedAt,
          );
        }
      }).immediate();
    } catch (err) {
      throw writeError(err, 'the SQLite database refused rejected input', {
        items: items.length,
      });
    }
  }

  async listRejected(limit: number, beforeId?: bigint): Promise<StoredRejectedItem[]> {
    const sql =
      'SELECT id, raw, reason, source, line, "column", received_at FROM rejected' +
      ' WHERE id < ? ORDER BY id DESC LIMIT ?';
    const rows = this.#prepared(sql).all(beforeId ?? 2n ** 63n - 1n, limit) as Array<{
      id: bigint;
      raw: string;
      reason: string;
      source: string;
      line: bigint | null;
      column: bigint | null;
      received_at: bigint;
    }>;
    return rows.map((r) => {
      const item: StoredRejectedItem = {
        id: r.id,
        raw: r.raw,
        reason: r.reason,
        source: r.source,
        receivedAt: r.received_at,
      };
      if (r.line !== null) item.line = Number(r.line);
      if (r.column !== null) item.column = Number(r.column);
      return item;
    });
  }

  async pruneRejected(keep: number, before: bigint): Promise<number> {
    const sql =
      'DELETE FROM rejected WHERE received_at < ?' +
      ' OR id <= (SELECT id FROM rejected ORDER BY id DESC LIMIT 1 OFFSET ?)';
    return this.#change(sql, [before, keep]);
  }

  async stats(): Promise<StorageStats> {
    const count = (table: string) =>
      Number(this.#prepared(`SELECT count(*) AS n FROM ${table}`).pluck().get());
    let bytes = 0;
    for (const suffix of ['', '-wal']) {
      try {
        bytes += statSync(this.#opts.path + suffix).size;
      } catch {
        // The WAL file exists only while the database is open and has been written.
      }
    }
    return { events: count('events'), logs: count('logs'), rejected: count('rejected'), bytes };
  }

  async ready(): Promise<boolean> {
    const db = this.#db;
    if (!db?.open) return false;
    // Takes and drops the write lock without waiting, so a probe never blocks the loop.
    // While the writer thread has a batch it holds the lock; whether that batch commits is
    // what tells, and the storage manager holds writes when it does not.
    if (this.#writer?.busy) return true;
    db.pragma('busy_timeout = 0');
    try {
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
      return true;
    } catch (err) {
      this.#opts.logger.debug({ err }, 'sqlite not writable');
      return false;
    } finally {
      db.pragma(`busy_timeout = ${this.#opts.busyTimeoutMs}`);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // The workers go first: the last connection to close checkpoints and removes the WAL.
    await this.#writer?.close();
    await this.#checkpointer?.close();
    const db = this.#db;
    if (!db?.open) return;
    try {
      // Refreshes planner statistics where they are stale; bounded by analysis_limit.
      db.pragma('analysis_limit = 400');
      db.pragma('optimize');
    } catch (err) {
      this.#opts.logger.warn({ err }, 'sqlite optimize before close failed');
    }
    db.close();
    this.#opts.logger.info({ path: this.#opts.path }, 'sqlite storage closed');
  }

  #insertOne(r: EventRecord): WriteOutcome {
    const problem = rowProblem(r);
    if (problem) return { status: 'rejected', reason: problem };
    try {
      return this.#insert.get(r.kind)!.run(...recordParams(r)).changes === 1 ? STORED : DUPLICATE;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === undefined || !ROW_ERRORS.has(code)) throw err;
      return { status: 'rejected', reason: code.toLowerCase() };
    }
  }

  #change(sql: string, params: unknown[]): number {
    try {
      return this.#prepared(sql).run(...params).changes;
    } catch (err) {
      throw writeError(err, 'a SQLite delete failed', {});
    }
  }

  #prepared(sql: string): Database.Statement {
    let stmt = this.#queries.get(sql);
    if (!stmt) {
      if (this.#queries.size >= STATEMENT_CACHE) {
        this.#queries.delete(this.#queries.keys().next().value!);
      }
      stmt = this.#conn().prepare(sql);
      if (stmt.reader) stmt.safeIntegers(true);
      this.#queries.set(sql, stmt);
    }
    return stmt;
  }

  #conn(): Database.Database {
    if (!this.#db?.open) {
      throw createError('CCES_ERR_STORAGE_UNAVAILABLE', 'the SQLite database is not open', {
        path: this.#opts.path,
      });
    }
    return this.#db;
  }
}

/**
 * A failed write as a catalogue error: `CCES_ERR_STORAGE_UNAVAILABLE` for a transient cause
 * (the storage manager holds the writes and retries them), else `CCES_ERR_STORAGE_WRITE`.
 */
function writeError(err: unknown, what: string, details: Record<string, unknown>): Error {
  const code = (err as { code?: unknown }).code;
  // Only SQLite's own codes: a closed database (CCES_ERR_STORAGE_UNAVAILABLE from #conn) will
  // not open by itself, so holding writes for it would hold them until shutdown.
  const sqliteCode = typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
  if (sqliteCode !== undefined && TRANSIENT.test(sqliteCode)) {
    // The cause's own message ("database or disk is full") follows in the logs.
    return createError(
      'CCES_ERR_STORAGE_UNAVAILABLE',
      `the SQLite database cannot take writes now (${sqliteCode})`,
      { ...details, sqliteCode },
      err,
    );
  }
  return createError('CCES_ERR_STORAGE_WRITE', what, { ...details, sqliteCode }, err);
}
