/**
 * The main thread's side of write-worker.mjs: posts batches of statement parameters and
 * resolves each with its outcomes once the worker has committed it. better-sqlite3 blocks
 * the thread that runs a statement; with the inserts on the worker, the main thread goes on
 * decoding and answering requests meanwhile, and further batches wait in the worker's inbox
 * so that it does not idle between batches.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { workerStarted } from './worker-start.ts';

/** Settings the worker opens its connection with. */
export interface WriterSettings {
  path: string;
  busyTimeoutMs: number;
  synchronous: string;
  cacheSize: number;
  /** The writer connection's `wal_autocheckpoint`; SQLite's default when absent. */
  autocheckpoint: number | undefined;
  insertSql: { event: string; log: string };
  /** SQLite error codes that reject one row and leave the rest of the batch. */
  rowErrors: string[];
}

/** Per row of a batch: 0 stored, 1 duplicate, 2 rejected with `reasons[row]`. */
export interface WriterReply {
  outcomes: Uint8Array;
  reasons: Record<number, string>;
}

interface Pending {
  resolve: (reply: WriterReply) => void;
  reject: (err: Error) => void;
}

/** An error the worker reported, with SQLite's code kept for the caller to classify. */
class WriterError extends Error {
  readonly code: string | undefined;

  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'SqliteWriterError';
    this.code = code;
  }
}

/** A writer thread with its own connection to one database file. */
export class WriterThread {
  readonly #worker: Worker;
  readonly #logger: Logger;
  readonly #onDeath: () => void;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #dead = false;
  #closing: Promise<void> | undefined;
  /**
   * True once the worker has opened its connection and prepared its statements, false if it
   * died first (then `alive` is false). Awaited by the storage's open(), so that starting the
   * thread is not paid by the first batch.
   */
  readonly started: Promise<boolean>;

  /** `onDeath` runs once if the worker dies; the storage then writes on its own. */
  constructor(settings: WriterSettings, logger: Logger, onDeath: () => void) {
    this.#logger = logger;
    this.#onDeath = onDeath;
    const url = new URL('./write-worker.mjs', import.meta.url);
    this.#worker = new Worker(url, { workerData: settings });
    // Referenced only while a batch is out, so an idle writer never keeps the process up.
    this.#worker.unref();
    this.started = workerStarted(this.#worker);
    this.#worker.on('message', (msg: Reply | 'ready') => {
      if (msg !== 'ready') this.#answer(msg);
    });
    this.#worker.on('error', (err) => this.#died(err));
    this.#worker.on('exit', (code) => {
      if (this.#closing === undefined) this.#died(new Error(`exited with code ${code}`));
    });
  }

  /** False once the worker has died; the storage then writes on its own connection. */
  get alive(): boolean {
    return !this.#dead && this.#closing === undefined;
  }

  /** Whether a batch is out (posted and not yet answered). */
  get busy(): boolean {
    return this.#pending.size > 0;
  }

  /** Inserts `rows` (kind 0 event, 1 log, per row) in one transaction. */
  write(kinds: number[], rows: unknown[][]): Promise<WriterReply> {
    if (!this.alive) return Promise.reject(new WriterError('the writer thread is gone', undefined));
    const id = this.#nextId++;
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise<WriterReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, kinds, rows });
    });
  }

  /** Stops the worker at once, as a crash would; for tests of what follows a death. */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }

  /** Lets the batches already posted finish, then stops the worker. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#dead) return;
    const exited = once(this.#worker, 'exit');
    this.#worker.ref();
    // Messages are handled in order: every batch posted before this one commits first.
    this.#worker.postMessage('close');
    await exited;
  }

  #answer(msg: Reply): void {
    const pending = this.#pending.get(msg.id);
    if (pending === undefined) return;
    this.#pending.delete(msg.id);
    if (this.#pending.size === 0 && this.#closing === undefined) this.#worker.unref();
    if ('error' in msg) pending.reject(new WriterError(msg.error.message, msg.error.code));
    else pending.resolve({ outcomes: msg.outcomes, reasons: msg.reasons });
  }

  #died(err: Error): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#logger.error({ err }, 'sqlite writer thread died; writing on the main connection');
    const failure = new WriterError(`the writer thread died: ${err.message}`, undefined);
    for (const p of this.#pending.values()) p.reject(failure);
    this.#pending.clear();
    this.#onDeath();
  }
}

type Reply =
  | { id: number; outcomes: Uint8Array; reasons: Record<number, string> }
  | { id: number; error: { code: string | undefined; message: string } };
