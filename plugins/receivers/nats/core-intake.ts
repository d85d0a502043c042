/**
 * Core NATS intake, as ClusterCockpit's NATS receiver: plain subscriptions, each message body
 * handed to ingest. Core NATS neither redelivers nor waits, so a bounded queue stands between
 * the subscription and ingest; what does not fit is counted as a slow-consumer drop.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { IngestOptions, ReceiverContext } from '../../../core/contracts/receiver.ts';
import { hasCode } from '../../../core/errors.ts';
import { RepeatLog } from '../../shared/nats/repeat-log.ts';
import { ingestMessages } from './coalesce.ts';
import {
  SubjectRoutes,
  type SubscriptionDefaults,
  type SubscriptionSpec,
} from './subscriptions.ts';
import { WorkQueue, type WorkQueueLimits } from './work-queue.ts';

interface Item {
  body: Buffer;
  opts: IngestOptions;
}

/** Subscribes to every configured subject and feeds ingest with bounded concurrency. */
export class CoreIntake {
  #nc: NatsConnection;
  #specs: readonly SubscriptionSpec[];
  #defaults: SubscriptionDefaults;
  #ctx: ReceiverContext;
  #queue: WorkQueue<Item>;
  #subs: Subscription[] = [];
  #stopping = false;
  #repeats: RepeatLog;

  constructor(
    nc: NatsConnection,
    specs: readonly SubscriptionSpec[],
    defaults: SubscriptionDefaults,
    ctx: ReceiverContext,
    limits: WorkQueueLimits,
  ) {
    this.#nc = nc;
    this.#specs = specs;
    this.#defaults = defaults;
    this.#ctx = ctx;
    this.#repeats = new RepeatLog(ctx.logger);
    this.#queue = new WorkQueue((batch) => this.#handle(batch), limits);
  }

  /**
   * Subscribes and resolves once the server has the subscriptions; the client re-subscribes
   * by itself after a reconnect.
   */
  async start(): Promise<void> {
    for (const sub of this.#specs) {
      // Routes of this subscription alone: subscriptions may overlap, and a message takes
      // the defaults of the one that delivered it.
      const routes = new SubjectRoutes(() => sub, this.#defaults);
      const s = this.#nc.subscribe(sub.subject, {
        queue: sub.queue,
        callback: (err, msg) => {
          if (err) {
            this.#ctx.count('errors');
            this.#repeats.report(
              'error',
              `sub:${sub.subject}`,
              { err },
              'nats subscription failed',
            );
            return;
          }
          this.#enqueue(routes, msg.subject, msg.data);
        },
      });
      this.#subs.push(s);
    }
    await this.#nc.flush();
    this.#ctx.logger.info({ subjects: this.#specs.map((s) => s.subject) }, 'nats subscribed');
  }

  /** Unsubscribes (taking what the server already sent), then waits for the queue to empty. */
  async stop(): Promise<void> {
    await Promise.all(this.#subs.map((s) => s.drain().catch(() => undefined)));
    this.#stopping = true;
    await this.#queue.idle();
    this.#repeats.flush();
  }

  #enqueue(routes: SubjectRoutes, subject: string, data: Uint8Array): void {
    this.#ctx.count('received_msgs');
    this.#ctx.count('received_bytes', data.length);
    const { opts, key } = routes.of(subject);
    const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.#queue.push({ body, opts }, data.length, key)) return;
    this.#ctx.count('slow_consumer_drops');
    this.#repeats.report(
      'warn',
      'slow',
      { subject, waiting: this.#queue.waiting },
      'store cannot keep up; nats messages dropped (slow consumer)',
    );
  }

  /**
   * Ingests a batch. An overloaded store is retried (holding the queue); any other failure
   * loses the message.
   */
  async #handle(batch: Item[]): Promise<void> {
    const bodies = batch.map((i) => i.body);
    for (;;) {
      const err = await ingestMessages(this.#ctx.ingest, bodies, batch[0]!.opts);
      if (err === undefined) return;
      if (!hasCode(err, 'CCES_ERR_INGEST_OVERLOADED') || this.#stopping) {
        this.#lost(err, bodies.length);
        return;
      }
      this.#ctx.count('overloaded_retries', bodies.length);
      await sleep(retryDelayMs(err));
    }
  }

  #lost(err: unknown, messages: number): void {
    this.#ctx.count('errors', messages);
    this.#ctx.count('lost_msgs', messages);
    const code = (err as { code?: string }).code ?? 'unknown';
    this.#repeats.report('error', `ingest:${code}`, { err }, 'nats message lost: ingest failed');
  }
}

/** The wait before retrying an overloaded ingest: its Retry-After, at most one second. */
export function retryDelayMs(err: unknown): number {
  const secs = (err as { details?: { retryAfterSeconds?: unknown } }).details?.retryAfterSeconds;
  const ms = typeof secs === 'number' && secs > 0 ? secs * 1000 : 100;
  return Math.min(Math.max(ms, 50), 1000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
