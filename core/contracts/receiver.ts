/**
 * The Receiver contract: brings messages in and hands them to the host.
 */
import type { Logger } from 'pino';
import type { Precision } from '../time.ts';

/** Line protocol: one text, or a list of parts each decoded on its own. */
export type IngestInput = Buffer | string | readonly Buffer[];

/** How the host should read one input. */
export interface IngestOptions {
  /** Cluster for messages that name none (no tag, no JSON `cluster`). */
  cluster?: string;
  /** Timestamp precision; default `auto`. */
  precision?: Precision;
  /** When the input arrived, ns; default now. */
  receivedAt?: bigint;
}

/** A refused entry, as reported back to the sender. */
export interface IngestError {
  /** When the input was a list of parts: the index of the part; `line` counts within it. */
  part?: number;
  line: number;
  column?: number;
  reason: string;
}

/** What became of one input. */
export interface IngestResult {
  /** Entries decoded (good ones). */
  received: number;
  stored: number;
  duplicates: number;
  /** Good entries that are not events or logs (metrics, controls, queries), or dropped by rules. */
  skipped: number;
  /** Entries refused: syntax errors, no cluster, refused by storage. Kept in the rejected store. */
  rejected: IngestError[];
}

/** What a receiver gets from the host. */
export interface ReceiverContext {
  /**
   * Decodes line protocol, routes it, and resolves once every event and log in it is
   * committed (or refused and kept in the rejected store). Rejects with
   * `CCES_ERR_INGEST_OVERLOADED` (retry later), `CCES_ERR_INGEST_CLOSED` or
   * `CCES_ERR_STORAGE_WRITE`; then nothing of the input counts as acknowledged.
   *
   * The input may be a list of parts (such as one message each), answered as one input
   * (one outcome, one commit) for the cost of one call. Each part is decoded on its own:
   * a broken entry never reaches into the next part, and the errors of a part give its
   * index as `part` and count `line` within it.
   */
  ingest(input: IngestInput, opts?: IngestOptions): Promise<IngestResult>;
  /** The receiver's own child logger. */
  logger: Logger;
  /** Adds to one of the receiver's counters (shown by the stats endpoint). */
  count(name: string, n?: number): void;
}

/** A receiver. */
export interface Receiver {
  /** Starts intake. Rejects if intake cannot start; the host then fails start-up. */
  start(ctx: ReceiverContext): Promise<void>;
  /**
   * Stops intake and waits for in-flight inputs to be answered. Safe to call twice; the
   * second call returns the first's promise.
   */
  stop(): Promise<void>;
}
