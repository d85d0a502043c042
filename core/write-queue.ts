/**
 * The storage manager's queue of writers. It hands out batches of at most a given number of
 * records across writers, keeps each writer's outcomes in order, and answers a writer when
 * its last record is committed or any of its records failed.
 */
import type { WriteOutcome } from './contracts/storage.ts';
import type { EventRecord } from './record.ts';

/** One caller of `write`, waiting for its answer. */
export interface Writer {
  records: readonly EventRecord[];
  outcomes: WriteOutcome[];
  /** Records handed out in batches so far. */
  taken: number;
  committed: number;
  failed: boolean;
  /** `performance.now()` when it was queued. */
  queuedAt: number;
  answer: Promise<WriteOutcome[]>;
  resolve(outcomes: WriteOutcome[]): void;
  reject(err: Error): void;
}

/** Records `[start, end)` of one writer inside a batch. */
export interface Slice {
  writer: Writer;
  start: number;
  end: number;
}

/** Writers in arrival order; a writer leaves when all its records are handed out. */
export class WriteQueue {
  /** Slots before `#head` are cleared, so a writer handed out holds no memory here. */
  #writers: (Writer | undefined)[] = [];
  #head = 0;
  #depth = 0;
  #open = new Set<Writer>();

  /** Records accepted and not yet answered (queued or in a batch being committed). */
  get depth(): number {
    return this.#depth;
  }

  /** Queues a writer; the promise is its answer. */
  push(records: readonly EventRecord[]): Promise<WriteOutcome[]> {
    let resolve!: Writer['resolve'];
    let reject!: Writer['reject'];
    const answer = new Promise<WriteOutcome[]>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const writer: Writer = {
      records,
      outcomes: new Array<WriteOutcome>(records.length),
      taken: 0,
      committed: 0,
      failed: false,
      queuedAt: performance.now(),
      answer,
      resolve,
      reject,
    };
    this.#writers.push(writer);
    this.#open.add(writer);
    this.#depth += records.length;
    return answer;
  }

  /** The next batch: at most `max` records, from as many writers as fit. */
  take(max: number): Slice[] {
    const slices: Slice[] = [];
    let room = max;
    while (room > 0 && this.#head < this.#writers.length) {
      const w = this.#writers[this.#head]!;
      const n = Math.min(room, w.records.length - w.taken);
      if (n > 0 && !w.failed) {
        slices.push({ writer: w, start: w.taken, end: w.taken + n });
        w.taken += n;
        room -= n;
      }
      if (w.failed || w.taken === w.records.length) this.#advance();
    }
    return slices;
  }

  /** Stores the outcomes of a committed batch and answers the writers it completed. */
  commit(slices: readonly Slice[], outcomes: readonly WriteOutcome[]): void {
    let i = 0;
    for (const { writer: w, start, end } of slices) {
      if (w.failed) {
        // Another batch of this writer failed while this one was in flight: the writer has
        // its answer, and `fail` took all its uncommitted records off the depth already.
        i += end - start;
        continue;
      }
      for (let j = start; j < end; j++) w.outcomes[j] = outcomes[i++]!;
      w.committed += end - start;
      this.#depth -= end - start;
      if (w.committed === w.records.length) this.#settle(w).resolve(w.outcomes);
    }
  }

  /**
   * Rejects every writer of a failed batch; their records not yet handed out are dropped.
   * Records of theirs in another batch still in flight may yet commit; `commit` skips them.
   */
  fail(slices: readonly Slice[], err: Error): void {
    for (const { writer: w } of slices) {
      if (w.failed) continue;
      w.failed = true;
      this.#depth -= w.records.length - w.committed;
      this.#settle(w).reject(err);
    }
  }

  /** Resolves once every writer open now has been answered, either way. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#open].map((w) => w.answer));
  }

  #settle(w: Writer): Writer {
    this.#open.delete(w);
    return w;
  }

  #advance(): void {
    // Under steady load the queue never empties; a writer left in its slot would keep its
    // records alive after its answer, up to a compaction 1024 writers later.
    this.#writers[this.#head] = undefined;
    this.#head++;
    // Compacts now and then so a long queue costs no O(n) shift per writer.
    if (this.#head === this.#writers.length) {
      this.#writers = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#writers.length) {
      this.#writers = this.#writers.slice(this.#head);
      this.#head = 0;
    }
  }
}
