/**
 * Repeated problems of the NATS plugins, keyed by what went wrong: each key gets its own
 * {@link BurstLogger}, so a broker or storage outage gives a line with a count, not a flood.
 */
import type { Logger } from 'pino';
import { BurstLogger } from '../../../core/burst-logger.ts';

/** A set of burst loggers created on first use of a key. */
export class RepeatLog {
  #logger: Logger;
  #bursts = new Map<string, BurstLogger>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Logs at once the first time `key` shows up in a burst; later ones are added up. */
  report(level: 'warn' | 'error', key: string, obj: Record<string, unknown>, msg: string): void {
    let burst = this.#bursts.get(key);
    if (!burst) this.#bursts.set(key, (burst = new BurstLogger(this.#logger, level, msg)));
    burst.add(1, obj);
  }

  /** Logs what is still held (at shutdown). */
  flush(): void {
    for (const burst of this.#bursts.values()) burst.flush();
  }
}
