/**
 * The webhook sink: one delivery at a time, in write order; each write resolves once its
 * batch was accepted (2xx) and rejects with `CCES_ERR_SINK_DELIVERY` once retries ran out.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { createError, extraToJson, formatRfc3339 } from '../../../core/index.ts';
import type { EventRecord, Sink } from '../../../core/index.ts';

/** Settings of a webhook sink, defaults applied. */
export interface WebhookOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMs: number;
  maxRetries: number;
  retryDelayMs: number;
  maxQueue: number;
}

/** A sink that POSTs JSON. */
export class WebhookSink implements Sink {
  readonly #opts: WebhookOptions;
  readonly #logger: Logger;
  #queued = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(opts: WebhookOptions, logger: Logger) {
    this.#opts = opts;
    this.#logger = logger;
  }

  write(batch: readonly EventRecord[]): Promise<void> {
    if (this.#closing) {
      return Promise.reject(createError('CCES_ERR_INGEST_CLOSED', 'the webhook sink is closed'));
    }
    if (this.#queued + batch.length > this.#opts.maxQueue) {
      const details = { queued: this.#queued, maxQueue: this.#opts.maxQueue, retryAfterSeconds: 1 };
      const msg = `webhook queue full (${this.#queued} of ${this.#opts.maxQueue} records)`;
      return Promise.reject(createError('CCES_ERR_INGEST_OVERLOADED', msg, details));
    }
    this.#queued += batch.length;
    const body = JSON.stringify({ records: batch.map(toJson) });
    const done = this.#chain.then(() => this.#deliver(body, batch.length));
    const settled = done.finally(() => (this.#queued -= batch.length));
    // The chain only orders deliveries; each caller sees its own outcome through `settled`.
    this.#chain = settled.catch(() => undefined);
    return settled;
  }

  async flush(): Promise<void> {
    await this.#chain;
  }

  close(): Promise<void> {
    this.#closing ??= this.flush();
    return this.#closing;
  }

  /** Number of records accepted and not yet delivered or given up. */
  get queued(): number {
    return this.#queued;
  }

  async #deliver(body: string, count: number): Promise<void> {
    const { url, maxRetries, retryDelayMs } = this.#opts;
    let lastError = '';
    for (let attempt = 0; attempt <= maxRetries; attempt++) {
      if (attempt > 0) await sleep(retryDelayMs * 2 ** (attempt - 1));
      const outcome = await this.#post(body);
      if (outcome === 'ok') return;
      lastError = outcome.reason;
      if (!outcome.retry) break;
    }
    const msg = `webhook ${url} refused ${count} records: ${lastError}`;
    this.#logger.warn({ url, count, reason: lastError }, 'webhook delivery given up');
    throw createError('CCES_ERR_SINK_DELIVERY', msg, { url, count, reason: lastError });
  }

  async #post(body: string): Promise<'ok' | { retry: boolean; reason: string }> {
    try {
      const res = await fetch(this.#opts.url, {
        method: 'POST',
        headers: { ...this.#opts.headers, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(this.#opts.timeoutMs),
      });
      await res.arrayBuffer();
      if (res.ok) return 'ok';
      // A client error other than 408/429 will not change by sending the same body again.
      const retry = res.status >= 500 || res.status === 408 || res.status === 429;
      return { retry, reason: `HTTP ${res.status}` };
    } catch (err) {
      return { retry: true, reason: (err as Error).message };
    }
  }
}

function toJson(r: EventRecord) {
  return {
    kind: r.kind,
    cluster: r.cluster,
    name: r.name,
    time: String(r.time),
    rfc3339: formatRfc3339(r.time),
    tags: { ...r.tags },
    payload: r.payload,
    extra: r.extra ? JSON.parse(extraToJson(r.extra)) : {},
    ...(r.jobId === undefined ? {} : { jobId: r.jobId }),
  };
}
