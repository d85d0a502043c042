/**
 * JetStream intake: reads a stream through a durable pull consumer. A message is acked only
 * after ingest resolved (every line committed, or refused and kept in the rejected store);
 * when ingest refuses the input (overloaded, storage failure) it is nak'ed for a delayed
 * redelivery. Redeliveries are stored once because storage keys records by content.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type Consumer, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { IngestOptions, ReceiverContext } from '../../../core/contracts/receiver.ts';
import { createError, hasCode } from '../../../core/errors.ts';
import { RepeatLog } from '../../shared/nats/repeat-log.ts';
import { ingestMessages } from './coalesce.ts';
import { retryDelayMs } from './core-intake.ts';
import {
  findSubscription,
  SubjectRoutes,
  type SubscriptionDefaults,
  type SubscriptionSpec,
} from './subscriptions.ts';
import { COALESCE_BYTES, WorkQueue } from './work-queue.ts';

interface Item {
  msg: JsMsg;
  opts: IngestOptions;
}

/** Settings of a {@link JetStreamIntake}. */
export interface JetStreamIntakeOptions {
  stream: string;
  durable: string;
  /** Messages the client buffers (pull batch). */
  batch: number;
  /** Ingest calls at once. */
  concurrency: number;
  /** Bytes of messages waiting at most; a message past it is handed back for later. */
  maxPendingBytes: number;
  /** Messages joined into one ingest call at most. */
  coalesce: number;
  /** Redelivery delay after a storage failure. */
  nakDelayMs: number;
  /** The consumer's ack wait; long ingests send progress before it runs out. */
  ackWaitMs: number;
}

/** Consumes the durable consumer until stopped. */
export class JetStreamIntake {
  #nc: NatsConnection;
  #ctx: ReceiverContext;
  #opts: JetStreamIntakeOptions;
  #routes: SubjectRoutes;
  #repeats: RepeatLog;
  #consumer?: Consumer;
  #messages?: ConsumerMessages;
  #loop?: Promise<void>;
  #stopping = false;
  /** Messages taken and not yet acked or nak'ed, with when they were taken. */
  #inflight = new Map<JsMsg, number>();
  #queue: WorkQueue<Item>;
  #timer?: NodeJS.Timeout;

  constructor(
    nc: NatsConnection,
    ctx: ReceiverContext,
    opts: JetStreamIntakeOptions,
    specs: readonly SubscriptionSpec[],
    defaults: SubscriptionDefaults,
  ) {
    this.#nc = nc;
    this.#ctx = ctx;
    this.#opts = opts;
    this.#routes = new SubjectRoutes((subject) => findSubscription(specs, subject), defaults);
    this.#repeats = new RepeatLog(ctx.logger);
    this.#queue = new WorkQueue((batch) => this.#handle(batch), {
      concurrency: opts.concurrency,
      // The server's max_ack_pending bounds the count; bytes are bounded here.
      maxPending: Number.MAX_SAFE_INTEGER,
      maxPendingBytes: opts.maxPendingBytes,
      maxBatch: opts.coalesce,
      maxBatchBytes: COALESCE_BYTES,
    });
  }

  /** Binds to the consumer (which must exist) and starts consuming. */
  async start(): Promise<void> {
    const { stream, durable } = this.#opts;
    try {
      this.#consumer = await jetstream(this.#nc).consumers.get(stream, durable);
    } catch (err) {
      throw createError(
        'CCES_ERR_NATS_JETSTREAM',
        `JetStream consumer "${durable}" of stream "${stream}" is not usable: ${reason(err)}`,
        { stream, durable },
        err,
      );
    }
    const every = Math.max(Math.floor(this.#opts.ackWaitMs / 3), 100);
    this.#timer = setInterval(() => this.#keepAlive(every), every);
    this.#timer.unref();
    this.#loop = this.#run();
    this.#ctx.logger.info({ stream, durable }, 'jetstream consuming');
  }

  /** Stops pulling, naks what was buffered but not started, waits for in-flight messages. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#messages?.stop();
    await this.#loop;
    await this.#queue.idle();
    clearInterval(this.#timer);
    this.#repeats.flush();
  }

  /**
   * Consumes with a callback rather than the async iterator: the iterator's per-message
   * promise cost twice the CPU of delivery and ack together. The client pulls more as
   * messages arrive whatever the callback does, so what bounds the messages held here is the
   * consumer's max_ack_pending (nothing is acked before it is stored) and the queue's byte
   * limit, past which a message is handed back for a later redelivery.
   */
  async #run(): Promise<void> {
    while (!this.#stopping) {
      try {
        this.#messages = await this.#consumer!.consume({
          max_messages: this.#opts.batch,
          callback: (m) => this.#take(m),
        });
        if (this.#stopping) this.#messages.stop();
        void this.#watch(this.#messages);
        const ended = await this.#messages.closed();
        if (ended instanceof Error) throw ended;
      } catch (err) {
        this.#ctx.count('errors');
        this.#repeats.report('error', 'consume', { err }, 'jetstream consume failed; retrying');
      }
      if (!this.#stopping) await sleep(1000);
    }
  }

  #take(m: JsMsg): void {
    this.#ctx.count('received_msgs');
    this.#ctx.count('received_bytes', m.data.length);
    if (m.redelivered) this.#ctx.count('redelivered');
    if (this.#stopping) {
      // Not started: hand it straight back so another store process can take it.
      m.nak();
      this.#ctx.count('naked');
      return;
    }
    const { opts, key } = this.#routes.of(m.subject);
    this.#inflight.set(m, Date.now());
    if (!this.#queue.push({ msg: m, opts }, m.data.length, key)) {
      this.#inflight.delete(m);
      m.nak(FULL_NAK_DELAY_MS);
      this.#ctx.count('naked');
      this.#ctx.count('queue_full');
      const obj = { waiting: this.#queue.waiting };
      this.#repeats.report('warn', 'full', obj, 'jetstream intake queue full; redelivery later');
    }
  }

  /** Ingests a batch as one input; acks every message once it is taken, else naks them all. */
  async #handle(batch: Item[]): Promise<void> {
    const bodies = batch.map(({ msg: m }) =>
      Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
    );
    const err = await ingestMessages(this.#ctx.ingest, bodies, batch[0]!.opts);
    for (const { msg: m } of batch) this.#inflight.delete(m);
    if (err === undefined) {
      for (const { msg: m } of batch) m.ack();
      this.#ctx.count('acked', batch.length);
      return;
    }
    const overloaded = hasCode(err, 'CCES_ERR_INGEST_OVERLOADED');
    const delay = overloaded ? retryDelayMs(err) : this.#opts.nakDelayMs;
    for (const { msg: m } of batch) m.nak(delay);
    this.#ctx.count('naked', batch.length);
    const code = (err as { code?: string }).code ?? 'unknown';
    const obj = { err, delayMs: delay };
    this.#repeats.report('warn', `ingest:${code}`, obj, 'ingest refused; redelivery later');
  }

  /** Tells the server that long-running messages are still being worked on. */
  #keepAlive(olderThanMs: number): void {
    const limit = Date.now() - olderThanMs;
    for (const [m, since] of this.#inflight) if (since < limit) m.working();
  }

  /** Counts and logs (once per burst) the consumer's trouble notices. */
  async #watch(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (!TROUBLE.has(s.type)) continue;
      this.#ctx.count(s.type);
      this.#repeats.report('warn', s.type, { status: s }, 'jetstream consumer trouble');
    }
  }
}

/** How long a message refused by a full queue waits before it is delivered again. */
const FULL_NAK_DELAY_MS = 1000;

/** Consumer notices worth a counter and a log line; the others are routine. */
const TROUBLE = new Set([
  'heartbeats_missed',
  'consumer_not_found',
  'stream_not_found',
  'consumer_deleted',
  'exceeded_limits',
]);

function reason(err: unknown): string {
  return (err as Error).message;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
