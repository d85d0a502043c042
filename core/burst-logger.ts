/**
 * Logs a repeated problem once per burst with a count instead of once per occurrence: the
 * first occurrence is logged at once, later ones within the window are added up and logged
 * as one line when the window ends.
 */
import type { Logger } from 'pino';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** One kind of repeated problem, such as "sink write failed". */
export class BurstLogger {
  #logger: Logger;
  #level: Level;
  #msg: string;
  #windowMs: number;
  #timer?: NodeJS.Timeout;
  #count = 0;
  #last?: Record<string, unknown>;

  /** `msg` is the log message; `windowMs` the quiet time that ends a burst. */
  constructor(logger: Logger, level: Level, msg: string, windowMs = 10_000) {
    this.#logger = logger;
    this.#level = level;
    this.#msg = msg;
    this.#windowMs = windowMs;
  }

  /** Records `count` occurrences; `obj` describes the latest (error, example). */
  add(count: number, obj: Record<string, unknown>): void {
    if (!this.#logger.isLevelEnabled(this.#level)) return;
    if (this.#timer === undefined) {
      this.#logger[this.#level]({ ...obj, count }, this.#msg);
      this.#timer = setTimeout(() => this.#endWindow(), this.#windowMs).unref();
      return;
    }
    this.#count += count;
    this.#last = obj;
  }

  /** Logs what the current window holds and stops the timer. Safe to call twice. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#logHeld();
  }

  #endWindow(): void {
    this.#timer = undefined;
    if (this.#count === 0) return;
    this.#logHeld();
    // The burst goes on: keep adding up for another window instead of logging the next one.
    this.#timer = setTimeout(() => this.#endWindow(), this.#windowMs).unref();
  }

  #logHeld(): void {
    if (this.#count === 0) return;
    this.#logger[this.#level]({ ...this.#last, count: this.#count }, this.#msg);
    this.#count = 0;
    this.#last = undefined;
  }
}
