/**
 * One live-tail client: Server-Sent Events of the stored records that match a query, in
 * (time, id) order, each with its cursor as event id.
 *
 * The tail never holds records of its own. A commit only marks it dirty; it then reads the
 * records after its cursor from storage, a page at a time, so replay (after `Last-Event-ID`)
 * and live delivery are one mechanism and cannot leave a gap or send a record twice. Ingest
 * never waits for it: a commit costs each tail a flag. A client whose socket keeps more than
 * `maxBufferBytes` unsent, or does not drain within `stallMs`, is cut off with a `cutoff`
 * event naming the reason; its EventSource reconnects and resumes from its last id.
 */
import type { ServerResponse } from 'node:http';
import type { CommitFeed, CommitNotice } from '../../../core/commit-feed.ts';
import type { Storage, StorageQuery } from '../../../core/contracts/storage.ts';
import type { RecordKind } from '../../../core/record.ts';
import { encodeCursor, type Position } from './cursor.ts';
import { itemJson } from './record-format.ts';

/** Limits of every tail. */
export interface TailLimits {
  /** Unsent bytes a client may hold before it is cut off. */
  maxBufferBytes: number;
  /** How long a full socket may stay full before the client is cut off, ms. */
  stallMs: number;
  /** Records read from storage per query. */
  pageSize: number;
  /** Interval of keep-alive comments, ms. */
  heartbeatMs: number;
}

/** A running tail. */
export class LiveTail {
  readonly #res: ServerResponse;
  readonly #storage: Storage;
  readonly #query: StorageQuery;
  readonly #limits: TailLimits;
  #cursor: Position | undefined;
  #dirty = true;
  #pulling: Promise<void> | undefined;
  #closed = false;
  #unsubscribe: () => void = () => {};
  #heartbeat: NodeJS.Timeout | undefined;
  /** Called once when the tail ends, whoever ended it. */
  onEnd: () => void = () => {};

  /** `query` holds the filters (order and `after` are set here); `cursor` is the resume point. */
  constructor(
    res: ServerResponse,
    storage: Storage,
    query: StorageQuery,
    cursor: Position | undefined,
    limits: TailLimits,
  ) {
    this.#res = res;
    this.#storage = storage;
    this.#query = { ...query, order: 'asc', limit: limits.pageSize };
    this.#cursor = cursor;
    this.#limits = limits;
  }

  /**
   * Subscribes, then (without a resume point) places the cursor at the newest matching
   * record, so only what commits from now on is sent; then replays and follows.
   */
  async start(feed: CommitFeed, fromNow: boolean): Promise<void> {
    this.#unsubscribe = feed.subscribe((n) => this.#onCommit(n));
    this.#res.on('close', () => this.#end());
    if (fromNow && this.#cursor === undefined) {
      const newest = await this.#storage.query({ ...this.#query, order: 'desc', limit: 1 });
      const r = newest.records[0];
      if (r) this.#cursor = { time: r.time, id: r.id };
    }

    // Only now is the client told it is connected: whatever commits later is sent.
    this.#res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    this.#write('retry: 2000\n: connected\n\n');
    const beat = () => this.#write(': keep-alive\n\n');
    this.#heartbeat = setInterval(beat, this.#limits.heartbeatMs);
    this.#heartbeat.unref();
    this.#kick();
  }

  /** Ends the stream with a final named event. Safe to call twice. */
  stop(event: string, code: string, message: string): void {
    if (this.#closed) return;
    if (!this.#res.headersSent) {
      // Failed before the stream began: an ordinary error answer.
      this.#res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      this.#res.end(JSON.stringify({ code, message }));
      this.#end();
      return;
    }
    this.#write(`event: ${event}\ndata: ${JSON.stringify({ code, message })}\n\n`);
    if (!this.#res.writableEnded) this.#res.end();
    this.#end();
  }

  #onCommit(n: CommitNotice): void {
    if (this.#dirty || this.#closed) return;
    for (let i = 0; i < n.records.length; i++) {
      if (n.outcomes[i]?.status === 'stored' && this.#mayMatch(n.records[i]!)) {
        this.#dirty = true;
        this.#kick();
        return;
      }
    }
  }

  /** A cheap pre-check; storage decides with the full filter. */
  #mayMatch(r: CommitNotice['records'][number]): boolean {
    const q = this.#query;
    if (r.kind !== q.kind) return false;
    if (q.clusters && !q.clusters.includes(r.cluster)) return false;
    if (q.names && !q.names.includes(r.name)) return false;
    const host = r.tags.hostname;
    return !q.hostnames || (host !== undefined && q.hostnames.includes(host));
  }

  #kick(): void {
    this.#pulling ??= this.#pull()
      .catch((err: unknown) => {
        const code = (err as { code?: string }).code ?? 'CCES_ERR_STORAGE_QUERY';
        this.stop('error', code, `the live tail failed: ${(err as Error).message}`);
      })
      .finally(() => {
        this.#pulling = undefined;
        if (this.#dirty && !this.#closed) this.#kick();
      });
  }

  async #pull(): Promise<void> {
    while (this.#dirty && !this.#closed) {
      this.#dirty = false;
      let more = true;
      while (more && !this.#closed) {
        const page = await this.#storage.query({ ...this.#query, after: this.#cursor });
        let text = '';
        for (const r of page.records) {
          this.#cursor = { time: r.time, id: r.id };
          text += `id: ${encodeCursor(this.#cursor)}\ndata: ${itemJson(r)}\n\n`;
        }
        if (this.#closed) return;
        if (text !== '' && !this.#write(text)) await this.#drained();
        more = page.next !== undefined;
      }
    }
  }

  /** Waits for the socket to drain; cuts the client off when it holds too much or stalls. */
  async #drained(): Promise<void> {
    const { maxBufferBytes, stallMs } = this.#limits;
    const unsent = this.#res.writableLength;
    if (unsent > maxBufferBytes) {
      this.#cutOff(`the client left ${unsent} bytes unread (limit ${maxBufferBytes})`);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const drained = await new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), stallMs);
      this.#res.once('drain', () => resolve(true));
      this.#res.once('close', () => resolve(true));
    }).finally(() => clearTimeout(timer));
    if (!drained) this.#cutOff(`the client read nothing for ${stallMs} ms`);
  }

  /** Writes unless the response already ended; false when the socket buffer is full. */
  #write(text: string): boolean {
    if (this.#res.writableEnded || this.#res.destroyed) return true;
    return this.#res.write(text);
  }

  #cutOff(reason: string): void {
    this.stop('cutoff', 'CCES_ERR_STREAM_SLOW_CLIENT', `${reason}; reconnect to resume`);
  }

  #end(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#unsubscribe();
    this.onEnd();
  }
}
