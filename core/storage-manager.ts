/**
 * The storage manager: the sink in front of the storage. It queues writers, commits their
 * records in batches (group commit), answers each writer only after all its records are
 * committed, refuses writes when the queue is full, and runs retention.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CommitNotice } from './commit-feed.ts';
import type { RejectedItem, Storage, WriteOutcome } from './contracts/storage.ts';
import type { Sink } from './contracts/sink.ts';
import { createError, hasCode } from './errors.ts';
import type { EventRecord } from './record.ts';
import { Retention } from './retention.ts';
import type { Stats } from './stats.ts';
import type { StorageManagerOptions } from './storage-config.ts';
import { WriteQueue, type Slice } from './write-queue.ts';

export { StorageManagerSchema, storageManagerOptions } from './storage-config.ts';
export type { StorageManagerConfig, StorageManagerOptions } from './storage-config.ts';

const SCOPE = 'storage';

/** Batches committed before the write lane is given up for a turn (see #commitSome). */
const LANE_TURN = 16;

/** Retry-After while the storage is away: its past commit rate says nothing about when. */
const HELD_RETRY_AFTER_S = 5;

/**
 * Group commit: a write joins the queue and a drain starts on the next turn of the event
 * loop, so writers that arrive together share one transaction. While a batch commits, new
 * writers queue up and go in the next one. A record thus waits for the commit in progress
 * only, never for a timer: `flush_time` is the bound that holds unless the storage itself is
 * slower, and a batch that waited longer is counted as `late_batches`. Batches hold at most
 * `batch_size` records; a larger writer is split, and answered after its last part.
 */
export class StorageManager implements Sink {
  readonly #storage: Storage;
  readonly #opts: StorageManagerOptions;
  readonly #logger: Logger;
  readonly #stats: Stats;
  readonly #queue = new WriteQueue();
  readonly #retention: Retention;
  readonly #onCommit: ((notice: CommitNotice) => void) | undefined;
  #lane: Promise<unknown> = Promise.resolve();
  #draining: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #closed = false;
  /** Committed records per second of commit time, smoothed; estimates Retry-After. */
  #rate = 0;
  #failedBatches = 0;
  #warnedLate = false;
  /** `performance.now()` when a batch began waiting for an unavailable storage. */
  #heldSince: number | undefined;
  /** Set while a drain with room for another batch waits for writers. */
  #onArrival: (() => void) | undefined;

  constructor(
    storage: Storage,
    opts: StorageManagerOptions,
    deps: { logger: Logger; stats: Stats; onCommit?: (notice: CommitNotice) => void },
  ) {
    this.#storage = storage;
    this.#onCommit = deps.onCommit;
    this.#opts = opts;
    this.#logger = deps.logger;
    this.#stats = deps.stats;
    const exclusive = <T>(fn: () => Promise<T>) => this.#exclusive(fn);
    this.#retention = new Retention(opts, { ...deps, storage, exclusive, scope: SCOPE });
    this.#stats.set(SCOPE, 'queue_depth', 0);
  }

  /** Records accepted and not yet answered. */
  get queueDepth(): number {
    return this.#queue.depth;
  }

  /**
   * Starts the first retention pass and its timer. Does not wait for the pass to finish: a
   * large backlog (a store that was down for days) must not hold up start-up; the pass
   * shares the write lane with ingest chunk by chunk. `runRetention()` returns it.
   */
  async start(): Promise<void> {
    if (this.#closing || this.#timer) return;
    void this.#retention.run();
    this.#timer = setInterval(() => void this.#retention.run(), this.#opts.retentionIntervalMs);
    this.#timer.unref();
  }

  /** The running retention pass, or a new one. Never rejects (failures are counted). */
  runRetention(): Promise<void> {
    return this.#retention.run();
  }

  /**
   * Resolves with one outcome per record once all of them are committed; while the storage
   * is unavailable the writer is held. Rejects with `CCES_ERR_INGEST_OVERLOADED`
   * (details.retryAfterSeconds, details.storageUnavailable) when the queue is full,
   * `CCES_ERR_INGEST_CLOSED` after close, `CCES_ERR_STORAGE_WRITE` when a commit failed,
   * `CCES_ERR_STORAGE_UNAVAILABLE` when the storage was still away at close.
   */
  async write(batch: readonly EventRecord[]): Promise<WriteOutcome[]> {
    if (this.#closed) {
      throw createError('CCES_ERR_INGEST_CLOSED', 'the storage manager is closed');
    }
    if (batch.length === 0) return [];
    const depth = this.#queue.depth;
    // An empty queue takes a writer of any size, or a writer above max_queue could never go.
    if (depth > 0 && depth + batch.length > this.#opts.maxQueue) {
      this.#stats.add(SCOPE, 'overloaded', batch.length);
      throw this.#overloaded(depth);
    }
    const answer = this.#queue.push(batch);
    this.#gauge();
    this.#onArrival?.();
    this.#onArrival = undefined;
    this.#kick();
    return answer;
  }

  /**
   * The overload error while the queue is full (it takes no writer of even one record), for
   * refusing input before it is decoded; counted as `overloaded_unread`.
   */
  refusesInput(): Error | undefined {
    const depth = this.#queue.depth;
    if (this.#closed || depth === 0 || depth < this.#opts.maxQueue) return undefined;
    this.#stats.add(SCOPE, 'overloaded_unread');
    return this.#overloaded(depth);
  }

  /** Keeps refused input in the rejected store. */
  async writeRejected(items: RejectedItem[]): Promise<void> {
    if (this.#closed) {
      throw createError('CCES_ERR_INGEST_CLOSED', 'the storage manager is closed');
    }
    if (items.length === 0) return;
    try {
      await this.#exclusive(() => this.#storage.writeRejected(items));
    } catch (err) {
      throw wrapWriteError(err, items.length);
    }
    this.#stats.add(SCOPE, 'rejected_kept', items.length);
  }

  /** Whether the storage can take writes now: false while writes are held for it. */
  async ready(): Promise<boolean> {
    if (this.#closed || this.#closing || this.#heldSince !== undefined) return false;
    try {
      return (await this.#storage.ready?.()) ?? true;
    } catch (err) {
      this.#logger.debug({ err }, 'storage readiness probe failed');
      return false;
    }
  }

  /** Resolves once every writer queued before the call has been answered. */
  async flush(): Promise<void> {
    await this.#queue.settled();
    await this.#lane;
  }

  /** Stops retention, commits everything queued, then refuses writes. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#retention.stop();
    while (this.#queue.depth > 0) await this.flush();
    await this.#lane;
    this.#closed = true;
  }

  #kick(): void {
    if (this.#draining) return;
    this.#draining = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#drain())
      .finally(() => {
        this.#draining = undefined;
        if (this.#queue.depth > 0) this.#kick();
      });
  }

  async #drain(): Promise<void> {
    while (await this.#exclusive(() => this.#commitSome()));
  }

  /**
   * Commits batches from the queue, with up to the storage's `writeConcurrency` in flight,
   * until the queue is empty or LANE_TURN batches went; then the lane is given up for a turn
   * so that retention and rejected input get their share under sustained load. Resolves
   * true when it stopped for that turn rather than for an empty queue.
   */
  async #commitSome(): Promise<boolean> {
    const inflight = new Set<Promise<void>>();
    let started = 0;
    while (started < LANE_TURN) {
      const slices = this.#queue.take(this.#opts.batchSize);
      if (slices.length === 0) {
        if (inflight.size === 0) break;
        // Room for another batch: wake on the next writer (on the turn after it arrived, so
        // that writers arriving together still share a batch) or when a commit ends.
        const arrival = new Promise<void>((wake) => (this.#onArrival = () => setImmediate(wake)));
        await Promise.race([...inflight, arrival]);
        this.#onArrival = undefined;
        continue;
      }
      this.#checkWait(slices[0]!.writer.queuedAt);
      const commit: Promise<void> = this.#commit(slices).finally(() => inflight.delete(commit));
      inflight.add(commit);
      started++;
      const concurrency = Math.max(1, Math.trunc(this.#storage.writeConcurrency ?? 1));
      while (inflight.size >= concurrency) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    return started === LANE_TURN;
  }

  /** Counts batches whose oldest record waited longer than flush_time for its commit. */
  #checkWait(queuedAt: number): void {
    const waitedMs = performance.now() - queuedAt;
    if (waitedMs <= this.#opts.flushTimeMs) return;
    this.#stats.add(SCOPE, 'late_batches');
    if (!this.#warnedLate) {
      this.#warnedLate = true;
      this.#logger.warn(
        { waitedMs: Math.round(waitedMs), flushTimeMs: this.#opts.flushTimeMs },
        'records waited longer than flush_time; counted as late_batches from now on',
      );
    }
  }

  async #commit(slices: Slice[]): Promise<void> {
    const records = slices.flatMap((s) => s.writer.records.slice(s.start, s.end));
    const started = performance.now();
    let outcomes: WriteOutcome[];
    try {
      outcomes = await this.#writeWithRetry(records);
      if (outcomes.length !== records.length) {
        throw createError('CCES_ERR_STORAGE_WRITE', 'the storage answered a wrong outcome count', {
          records: records.length,
          outcomes: outcomes.length,
        });
      }
    } catch (err) {
      this.#failed(slices, wrapWriteError(err, records.length));
      return;
    }

    this.#count(outcomes);
    const seconds = Math.max((performance.now() - started) / 1000, 1e-6);
    // Before the writers are answered, so a live tail never trails the acknowledgement.
    this.#onCommit?.({ records, outcomes, seconds });
    this.#queue.commit(slices, outcomes);
    const rate = records.length / seconds;
    this.#rate = this.#rate === 0 ? rate : this.#rate * 0.8 + rate * 0.2;
    this.#gauge();
    if (this.#failedBatches > 0) {
      this.#logger.info({ failedBatches: this.#failedBatches }, 'storage writes recovered');
      this.#failedBatches = 0;
    }
  }

  async #writeWithRetry(records: EventRecord[]): Promise<WriteOutcome[]> {
    // An unavailable storage (a database server away, a full disk) is waited for, holding
    // the writers within max_queue; every other failure goes back to the writers at once.
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      try {
        const outcomes = await this.#storage.write(records);
        this.#released();
        return outcomes;
      } catch (err) {
        if (!hasCode(err, 'CCES_ERR_STORAGE_UNAVAILABLE') || this.#closing) {
          this.#heldSince = undefined;
          throw err;
        }
        if (this.#heldSince === undefined) {
          this.#heldSince = performance.now();
          this.#stats.add(SCOPE, 'unavailable');
          this.#logger.warn({ err }, 'storage unavailable; holding writes');
        }
        await sleep(delay);
      }
    }
  }

  #released(): void {
    if (this.#heldSince === undefined) return;
    const heldMs = Math.round(performance.now() - this.#heldSince);
    this.#heldSince = undefined;
    this.#logger.info({ heldMs }, 'storage available again; held writes committed');
  }

  #overloaded(depth: number): Error {
    const held = this.#heldSince !== undefined;
    // Before the first commit there is no rate to estimate from; one second is a guess.
    const rate = this.#rate > 0 ? Math.ceil(depth / this.#rate) : 1;
    const retryAfterSeconds = Math.min(60, Math.max(1, held ? HELD_RETRY_AFTER_S : rate));
    const why = held
      ? `the storage is unavailable and ${depth} records are held`
      : `the write queue holds ${depth} records`;
    return createError('CCES_ERR_INGEST_OVERLOADED', `${why}; retry in ${retryAfterSeconds}s`, {
      queueDepth: depth,
      maxQueue: this.#opts.maxQueue,
      retryAfterSeconds,
      storageUnavailable: held,
    });
  }

  #failed(slices: Slice[], err: Error): void {
    this.#stats.add(SCOPE, 'write_errors');
    if (this.#failedBatches++ === 0) this.#logger.warn({ err }, 'storage writes failing');
    this.#queue.fail(slices, err);
    this.#gauge();
  }

  #count(outcomes: WriteOutcome[]): void {
    let stored = 0;
    let duplicates = 0;
    let rejected = 0;
    for (const o of outcomes) {
      if (o.status === 'stored') stored++;
      else if (o.status === 'duplicate') duplicates++;
      else rejected++;
    }
    this.#stats.add(SCOPE, 'batches');
    this.#stats.add(SCOPE, 'stored', stored);
    this.#stats.add(SCOPE, 'duplicates', duplicates);
    this.#stats.add(SCOPE, 'rejected', rejected);
  }

  #gauge(): void {
    this.#stats.set(SCOPE, 'queue_depth', this.#queue.depth);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lane.then(fn);
    this.#lane = run.catch(() => undefined);
    return run;
  }
}

function wrapWriteError(err: unknown, records: number): Error {
  // Unavailable stays as it is: the client may send the same again later (HTTP 503).
  if (hasCode(err, 'CCES_ERR_STORAGE_WRITE') || hasCode(err, 'CCES_ERR_STORAGE_UNAVAILABLE')) {
    return err as Error;
  }
  return createError(
    'CCES_ERR_STORAGE_WRITE',
    'the storage failed to commit a batch',
    { records },
    err,
  );
}
