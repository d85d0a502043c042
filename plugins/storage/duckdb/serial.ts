/**
 * Runs async operations one at a time. A DuckDB connection must not run two statements at
 * once, and a write's statements must not interleave with another's.
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `op` after every operation queued before it; its result or error is returned. */
  run<T>(op: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(op);
    // The queue must go on after a failed operation; its caller sees the error instead.
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every operation queued so far has settled. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}
