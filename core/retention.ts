/**
 * Retention: deletes events (and, when configured, logs) older than their retention time,
 * and prunes the rejected store, in chunks so that ingest goes on between them.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Storage } from './contracts/storage.ts';
import type { RecordKind } from './record.ts';
import type { Stats } from './stats.ts';
import { INT64_MIN } from './lineproto/values.ts';
import { nowNanos } from './time.ts';

/** What retention needs from the storage manager. */
export interface RetentionDeps {
  storage: Storage;
  /** Runs one storage call in the manager's single lane, between write batches. */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  stats: Stats;
  logger: Logger;
  scope: string;
}

/** Retention settings (see StorageManagerOptions). */
export interface RetentionOptions {
  retentionNs: bigint;
  logRetentionNs?: bigint;
  retentionChunk: number;
  rejectedMaxCount: number;
  rejectedMaxAgeNs: bigint;
}

/** One retention pass at a time; a call during a pass returns that pass. */
export class Retention {
  readonly #deps: RetentionDeps;
  readonly #opts: RetentionOptions;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(opts: RetentionOptions, deps: RetentionDeps) {
    this.#opts = opts;
    this.#deps = deps;
  }

  /** Runs a pass. Never rejects: a failure is logged and counted as `retention_errors`. */
  run(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#running ??= this.#pass().finally(() => (this.#running = undefined));
    return this.#running;
  }

  /** Ends the current pass after its chunk and refuses new passes. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #pass(): Promise<void> {
    const { storage, exclusive, stats, logger, scope } = this.#deps;
    const { retentionNs, logRetentionNs, rejectedMaxCount, rejectedMaxAgeNs } = this.#opts;
    const now = nowNanos();
    try {
      const events =
        retentionNs > 0n ? await this.#deleteOld('event', before(now, retentionNs)) : 0;
      const logs = logRetentionNs ? await this.#deleteOld('log', before(now, logRetentionNs)) : 0;
      const cut = before(now, rejectedMaxAgeNs);
      const rejected = this.#stopped
        ? 0
        : await exclusive(() => storage.pruneRejected(rejectedMaxCount, cut));
      stats.add(scope, 'retention_deleted_rejected', rejected);
      if (events + logs + rejected > 0) logger.info({ events, logs, rejected }, 'retention done');
    } catch (err) {
      stats.add(scope, 'retention_errors');
      logger.error({ err }, 'retention failed');
    }
  }

  async #deleteOld(kind: RecordKind, before: bigint): Promise<number> {
    const { storage, exclusive, stats, scope } = this.#deps;
    const chunk = this.#opts.retentionChunk;
    const counter = kind === 'event' ? 'retention_deleted_events' : 'retention_deleted_logs';
    let total = 0;
    while (!this.#stopped) {
      const n = await exclusive(() => storage.deleteBefore(kind, before, chunk));
      total += n;
      stats.add(scope, counter, n);
      if (n < chunk) break;
      // Lets queued write batches take the lane before the next chunk.
      await nextTurn();
    }
    return total;
  }
}

/**
 * The time `age` before `now`, no earlier than the earliest storable time: a retention of
 * centuries deletes nothing instead of handing storage a time outside int64.
 */
function before(now: bigint, age: bigint): bigint {
  const t = now - age;
  return t < INT64_MIN ? INT64_MIN : t;
}
