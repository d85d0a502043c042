/**
 * A small publish/subscribe hub for committed batches. The storage manager publishes each
 * batch right after its transaction committed; the API's metrics and live tail listen.
 * Publishing is synchronous and cheap, and a failing listener never reaches the write path.
 */
import type { WriteOutcome } from './contracts/storage.ts';
import type { EventRecord } from './record.ts';

/** One committed transaction. */
export interface CommitNotice {
  /** The records of the batch, in order; those with outcome `stored` are new in storage. */
  records: readonly EventRecord[];
  /** One outcome per record. */
  outcomes: readonly WriteOutcome[];
  /** How long the storage write took, seconds. */
  seconds: number;
}

/** A listener; it must return quickly and do its work later. */
export type CommitListener = (notice: CommitNotice) => void;

/** Fans committed batches out to listeners. */
export class CommitFeed {
  #listeners = new Set<CommitListener>();
  #failures = 0;

  /** Adds a listener; the returned function removes it (a second call does nothing). */
  subscribe(listener: CommitListener): () => void {
    // A wrapper keeps two subscriptions of the same function apart.
    const entry: CommitListener = (n) => listener(n);
    this.#listeners.add(entry);
    return () => void this.#listeners.delete(entry);
  }

  /** Listeners subscribed now. */
  get size(): number {
    return this.#listeners.size;
  }

  /** Listener calls that threw since start; they are otherwise ignored. */
  get failures(): number {
    return this.#failures;
  }

  /** Hands a committed batch to every listener. */
  publish(notice: CommitNotice): void {
    for (const listener of this.#listeners) {
      try {
        listener(notice);
      } catch {
        // A listener's bug must not fail a commit that already happened; it is counted.
        this.#failures++;
      }
    }
  }
}
