/**
 * Where cc-event-client sends line protocol: a NATS subject, or the store's HTTP write
 * endpoint (which answers with what it refused).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  connectNats,
  natsConnectOptions,
  type NatsConnectionConfig,
} from '../../plugins/shared/nats/connection.ts';

/** A refused entry, with its line in the sent file. */
export interface Refused {
  line: number;
  column?: number;
  reason: string;
}

/** What became of one chunk. */
export interface ChunkReply {
  /** Counts the server reported; absent when it reported none (NATS, HTTP 204). */
  stored?: number;
  duplicates?: number;
  skipped?: number;
  /** Entries refused in all (the list may be cut short). */
  rejected?: number;
  /** Entries refused; lines relative to the chunk. */
  refused: Refused[];
}

/** A destination. */
export interface Transport {
  /** Human-readable destination, for messages. */
  readonly target: string;
  /** Largest chunk the destination takes, bytes. */
  maxChunk(): number;
  send(body: Buffer): Promise<ChunkReply>;
  close(): Promise<void>;
}

const MAX_503_RETRIES = 10;

/** POSTs to `/api/write` (or InfluxDB's `/write`). */
export class HttpTransport implements Transport {
  readonly target: string;
  #url: URL;
  #token?: string;

  constructor(url: string, query: Record<string, string | undefined>, token?: string) {
    this.#url = new URL(url);
    for (const [k, v] of Object.entries(query))
      if (v !== undefined) this.#url.searchParams.set(k, v);
    this.#token = token;
    this.target = url;
  }

  maxChunk(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  async send(body: Buffer): Promise<ChunkReply> {
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(this.#url, { method: 'POST', headers, body }).catch((err: Error) => {
        const cause = (err.cause as { code?: string; message?: string } | undefined) ?? {};
        const why = cause.code ?? cause.message ?? err.message;
        throw new Error(`cannot reach ${this.target}: ${why}`);
      });
      if (res.status === 204 || res.status === 200) return { refused: [] };
      const text = await res.text();
      if (res.status === 400) return parseRefusal(text);
      if (res.status === 503 && attempt < MAX_503_RETRIES) {
        const wait = Number(res.headers.get('retry-after') ?? '1');
        await new Promise((r) => setTimeout(r, Math.max(wait, 0.1) * 1000));
        continue;
      }
      throw new Error(`HTTP ${res.status} from ${this.target}: ${text.slice(0, 500)}`);
    }
  }

  async close(): Promise<void> {}
}

function parseRefusal(text: string): ChunkReply {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // Not the store's JSON (a proxy's page, say): report the whole chunk's answer as one reason.
    return { refused: [{ line: 0, reason: text.slice(0, 500) }] };
  }
  const list = Array.isArray(body.errors) ? (body.errors as Refused[]) : [];
  const refused =
    list.length > 0 ? list : [{ line: 0, reason: String(body.message ?? body.error ?? text) }];
  return {
    stored: num(body.stored),
    duplicates: num(body.duplicates),
    skipped: num(body.skipped),
    rejected: num(body.rejected),
    refused,
  };
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' ? v : undefined;
}

/** Publishes to a NATS subject. */
export class NatsTransport implements Transport {
  readonly target: string;
  #cfg: NatsConnectionConfig;
  #subject: string;
  #nc?: NatsConnection;

  constructor(url: string, subject: string, cfg: Omit<NatsConnectionConfig, 'address'>) {
    this.#cfg = { ...cfg, address: url };
    this.#subject = subject;
    this.target = `${url} subject ${subject}`;
  }

  /** Connects; rejects with `CCES_ERR_NATS_CONNECT`. */
  async connect(): Promise<void> {
    const opts = natsConnectOptions(this.#cfg, process.cwd(), 'cc-event-client');
    this.#nc = await connectNats({ ...opts, maxReconnectAttempts: 10 });
  }

  maxChunk(): number {
    return this.#nc?.info?.max_payload ?? 1024 * 1024;
  }

  async send(body: Buffer): Promise<ChunkReply> {
    this.#nc!.publish(this.#subject, body);
    return { refused: [] };
  }

  /** Waits until the server has every message, then closes. */
  async close(): Promise<void> {
    if (!this.#nc) return;
    await this.#nc.flush();
    await this.#nc.drain();
  }
}
