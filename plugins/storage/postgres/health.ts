/**
 * Whether the Postgres server is reachable, as the storage sees it from its calls, probes and
 * the pool's connection errors; each change is logged once.
 */
import type { Logger } from 'pino';
import { codeOf, isUnavailable } from './pg-errors.ts';

/**
 * Tracks whether the server is reachable, to log each change once: a warning when it goes
 * away (with the first error), an info line with the count of failures when it is back.
 */
export class Health {
  readonly #logger: Logger;
  #downSince: number | undefined;
  #failures = 0;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Notes a failure; only connection-type failures count. */
  down(err: unknown): void {
    if (!isUnavailable(err)) return;
    this.#failures++;
    if (this.#downSince !== undefined) return;
    this.#downSince = Date.now();
    const reason = (err as Error).message;
    this.#logger.warn({ pgCode: codeOf(err), reason }, 'postgres unreachable');
  }

  /** Notes a success. */
  up(): void {
    if (this.#downSince === undefined) return;
    const downMs = Date.now() - this.#downSince;
    this.#logger.info({ downMs, failures: this.#failures }, 'postgres reachable again');
    this.#downSince = undefined;
    this.#failures = 0;
  }
}
