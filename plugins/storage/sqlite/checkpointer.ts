/**
 * Runs SQLite checkpoints in a worker thread. In WAL mode a commit only appends pages to
 * the WAL; copying them into the database file (and its fsyncs) otherwise happens inside
 * whichever commit crosses `wal_autocheckpoint`, on the ingest thread. Done beside it, on
 * the second core, ingest here runs about 2.5 times faster. The main connection keeps a
 * high `wal_autocheckpoint` as a safety net should the worker lag or fail.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { workerStarted } from './worker-start.ts';

/** WAL pages after which the main connection checkpoints itself (about 80 MB). */
export const SAFETY_NET_PAGES = 20_000;

const INTERVAL_MS = 25;

/** A background checkpointer for one database file. */
export class Checkpointer {
  readonly #worker: Worker;
  #closing: Promise<void> | undefined;
  /** True once the worker has opened its connection, false if it failed to. */
  readonly started: Promise<boolean>;

  constructor(path: string, synchronous: string, logger: Logger) {
    const url = new URL('./checkpoint-worker.mjs', import.meta.url);
    this.#worker = new Worker(url, { workerData: { path, synchronous, intervalMs: INTERVAL_MS } });
    this.#worker.unref();
    this.started = workerStarted(this.#worker);
    this.#worker.on('message', (msg: 'ready' | { error: string }) => {
      if (msg !== 'ready')
        logger.warn({ error: msg.error }, 'sqlite background checkpoint failing');
    });
    this.#worker.on('error', (err) => {
      logger.warn({ err }, 'sqlite checkpoint worker died; the writer checkpoints itself');
    });
  }

  /** Stops the worker and waits for it to exit. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#worker.threadId === -1) return;
    const exited = once(this.#worker, 'exit');
    // Unreferenced so it never keeps the process up, it must be referenced while awaited.
    this.#worker.ref();
    this.#worker.postMessage('close');
    await exited;
  }
}
