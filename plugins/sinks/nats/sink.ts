/**
 * The NATS sink: republishes routed events and logs as line protocol. Lines bound for one
 * subject are batched into messages of up to `max_message_bytes`; while the server is away
 * messages are held up to `max_pending_bytes`, then writes are refused.
 */
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { PluginFactoryContext } from '../../../core/contracts/plugin.ts';
import type { Sink } from '../../../core/contracts/sink.ts';
import { parseDurationMs } from '../../../core/duration.ts';
import { createError } from '../../../core/errors.ts';
import { encode } from '../../../core/lineproto/index.ts';
import { redactUrl } from '../../../core/logger.ts';
import type { Message } from '../../../core/message.ts';
import type { EventRecord } from '../../../core/record.ts';
import { BurstLogger } from '../../../core/burst-logger.ts';
import { connectNats, natsConnectOptions, natsServerUrl } from '../../shared/nats/connection.ts';
import { watchNatsStatus } from '../../shared/nats/status-log.ts';
import type { NatsSinkConfig } from './schema.ts';
import { compileSubject, type SubjectFn } from './subject-template.ts';

const FACTOR = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n } as const;

interface Chunk {
  subject: string;
  lines: string[];
  bytes: number;
}

/** Counters of a NATS sink; `publishedLines` counts records. */
export interface NatsSinkCounts {
  publishedMsgs: number;
  publishedLines: number;
  publishedBytes: number;
  refusedLines: number;
  errors: number;
}

/** A NATS sink instance. */
export class NatsSink implements Sink {
  #cfg: NatsSinkConfig;
  #factory: PluginFactoryContext;
  #logger: Logger;
  #subjectOf: SubjectFn;
  #maxBytes: number;
  #flushMs: number;
  #maxPending: number;
  #connectOpts: NodeConnectionOptions;
  #nc?: NatsConnection;
  #started?: Promise<void>;
  #status?: Promise<void>;
  #connected = false;
  #open = new Map<string, Chunk>();
  #held: Chunk[] = [];
  #pendingBytes = 0;
  #timer?: NodeJS.Timeout;
  #closed?: Promise<void>;
  #failures: BurstLogger;
  #counts: NatsSinkCounts = {
    publishedMsgs: 0,
    publishedLines: 0,
    publishedBytes: 0,
    refusedLines: 0,
    errors: 0,
  };

  constructor(cfg: NatsSinkConfig, factory: PluginFactoryContext) {
    this.#cfg = cfg;
    this.#factory = factory;
    this.#logger = factory.logger;
    this.#subjectOf = compileSubject(cfg.subject);
    this.#maxBytes = cfg.max_message_bytes ?? 64 * 1024;
    this.#flushMs = parseDurationMs(cfg.flush_time ?? '100ms');
    this.#maxPending = cfg.max_pending_bytes ?? 16 * 1024 * 1024;
    this.#failures = new BurstLogger(this.#logger, 'error', 'nats sink publish failed');
    this.#connectOpts = natsConnectOptions(
      cfg,
      factory.configDir,
      `cc-event-store:${factory.name}`,
    );
  }

  /** A copy of the counters. */
  counts(): NatsSinkCounts {
    return { ...this.#counts };
  }

  /** Connects. Rejects with `CCES_ERR_NATS_CONNECT`. A second call returns the first's promise. */
  start(): Promise<void> {
    this.#started ??= this.#connect();
    return this.#started;
  }

  /**
   * Encodes and queues the records; resolves once they are buffered for publishing. Rejects
   * with `CCES_ERR_INGEST_OVERLOADED` while the server is away and the hold is full.
   */
  async write(batch: readonly EventRecord[]): Promise<void> {
    if (this.#closed) throw createError('CCES_ERR_INGEST_CLOSED', 'the NATS sink is closed');
    await this.start();
    const lines: { subject: string; line: string }[] = [];
    for (const r of batch) {
      try {
        lines.push({
          subject: this.#subjectOf(r.cluster, r.name),
          line: toLine(r, this.#cfg.precision),
        });
      } catch (err) {
        this.#fail(err, 1);
      }
    }
    if (!this.#connected) {
      const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l.line) + 1, 0);
      if (this.#pendingBytes + bytes > this.#maxPending) {
        this.#counts.refusedLines += lines.length;
        throw createError('CCES_ERR_INGEST_OVERLOADED', 'NATS is away and the sink hold is full', {
          pendingBytes: this.#pendingBytes,
          retryAfterSeconds: 1,
        });
      }
    }
    for (const { subject, line } of lines) this.#append(subject, line);
    this.#timer ??= setTimeout(() => this.#publishOpen(), this.#flushMs);
  }

  /** Publishes every partly filled message and waits for the server to have them. */
  async flush(): Promise<void> {
    this.#publishOpen();
    if (this.#connected && this.#nc && !this.#nc.isClosed()) {
      await this.#nc.flush().catch((err: unknown) => this.#fail(err, 0));
    }
  }

  /** Flushes, drains and closes the connection. Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    if (!this.#started) return;
    await this.#started.catch(() => undefined);
    await this.flush();
    const held = this.#held.reduce((n, c) => n + c.lines.length, 0);
    if (held > 0) this.#logger.warn({ lines: held }, 'nats sink closed with unpublished lines');
    const nc = this.#nc;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
    await this.#status;
    this.#failures.flush();
    this.#logger.info(this.counts(), 'nats sink closed');
  }

  async #connect(): Promise<void> {
    const nc = (this.#nc = await connectNats(this.#connectOpts));
    this.#connected = true;
    this.#logger.info({ server: redactUrl(natsServerUrl(this.#cfg)) }, 'nats sink connected');
    const count = (name: string, n = 1) => {
      if (name === 'nats_errors') this.#counts.errors += n;
    };
    this.#status = watchNatsStatus(nc, this.#logger, count, (s) => {
      if (s.type === 'disconnect') this.#connected = false;
      if (s.type === 'reconnect') {
        this.#connected = true;
        this.#publishHeld();
      }
    });
  }

  #append(subject: string, line: string): void {
    const size = Buffer.byteLength(line) + 1;
    let chunk = this.#open.get(subject);
    if (chunk && chunk.bytes + size > this.#maxBytes) {
      this.#open.delete(subject);
      this.#send(chunk);
      chunk = undefined;
    }
    if (!chunk) this.#open.set(subject, (chunk = { subject, lines: [], bytes: 0 }));
    chunk.lines.push(line);
    chunk.bytes += size;
    this.#pendingBytes += size;
  }

  #publishOpen(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const chunks = [...this.#open.values()];
    this.#open.clear();
    for (const c of chunks) this.#send(c);
  }

  #publishHeld(): void {
    const held = this.#held;
    this.#held = [];
    for (const c of held) this.#send(c);
  }

  #send(chunk: Chunk): void {
    if (!this.#connected || !this.#nc) {
      this.#held.push(chunk);
      return;
    }
    this.#pendingBytes -= chunk.bytes;
    try {
      this.#nc.publish(chunk.subject, `${chunk.lines.join('\n')}\n`);
      this.#counts.publishedMsgs++;
      this.#counts.publishedLines += chunk.lines.length;
      this.#counts.publishedBytes += chunk.bytes;
    } catch (err) {
      this.#fail(err, chunk.lines.length);
    }
  }

  #fail(err: unknown, lines: number): void {
    this.#counts.errors++;
    this.#failures.add(1, { err, lines });
  }
}

/** The line of a record: its cluster goes back in as a tag, its payload as `event`/`log`. */
export function toLine(r: EventRecord, precision: 's' | 'ms' | 'us' | 'ns' = 'ns'): string {
  const tags: Record<string, string> = Object.create(null);
  for (const k in r.tags) tags[k] = r.tags[k]!;
  tags.cluster = r.cluster;
  const fields: Message['fields'] = Object.create(null);
  fields[r.kind] = r.payload;
  if (r.extra) for (const k in r.extra) fields[k] = r.extra[k]!;
  // A coarser precision cuts the time down to whole units, as a producer writing it would.
  const factor = FACTOR[precision];
  return encode({ name: r.name, tags, fields, time: (r.time / factor) * factor }, precision);
}
