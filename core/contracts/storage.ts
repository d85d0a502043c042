/**
 * The Storage contract: persists events and logs and answers queries. The host opens it
 * first and closes it last; the storage manager is its only writer inside one process.
 */
import type { EventRecord, RecordKind, StoredRecord } from '../record.ts';

/** The outcome of one record of a write. */
export type WriteOutcome =
  | { status: 'stored' }
  | { status: 'duplicate' }
  | { status: 'rejected'; reason: string };

/** Filters of an event or log query; every list matches any of its values. */
export interface StorageQuery {
  kind: RecordKind;
  clusters?: string[];
  hostnames?: string[];
  names?: string[];
  types?: string[];
  typeIds?: string[];
  stypes?: string[];
  stypeIds?: string[];
  functions?: string[];
  /** Matches the `loglevel` tag, else the `level` tag, compared case-insensitively. */
  loglevels?: string[];
  /** Exact matches on any tag. */
  tags?: Record<string, string>;
  /** Substring of the payload, case-insensitive for ASCII letters. */
  text?: string;
  /** `jobId` of a JSON payload, compared as text. */
  jobId?: string;
  /** Inclusive lower bound, ns. */
  from?: bigint;
  /** Exclusive upper bound, ns. */
  to?: bigint;
  order: 'asc' | 'desc';
  /** At most this many records. */
  limit: number;
  /** Keyset position: continue after this (time, id) in the query's order. */
  after?: { time: bigint; id: bigint };
}

/** One page of a query. `next` is set when more records may follow. */
export interface QueryPage {
  records: StoredRecord[];
  next?: { time: bigint; id: bigint };
}

/** Input that was refused, kept for operators. */
export interface RejectedItem {
  /** The raw text of the entry (truncated by the host to a bounded length). */
  raw: string;
  reason: string;
  /** Where it came from, such as `receiver:http` or `api:write`. */
  source: string;
  line?: number;
  column?: number;
  receivedAt: bigint;
}

/** A rejected item as read back. */
export interface StoredRejectedItem extends RejectedItem {
  id: bigint;
}

/** Sizes a storage reports for the stats endpoint. */
export interface StorageStats {
  events: number;
  logs: number;
  rejected: number;
  /** Bytes on disk, when known. */
  bytes?: number;
}

/**
 * A storage backend. Every method may reject with a catalogued error
 * (`CCES_ERR_STORAGE_*`); the host never calls two `write`s at once.
 */
export interface Storage {
  /** Connects, creates or migrates the schema. Called once, before anything else. */
  open(): Promise<void>;

  /**
   * Writes a batch in one transaction and resolves only once it is durable. Returns one
   * outcome per record, in order: a record whose (time, key) exists already is a duplicate,
   * also within the batch. One bad record is `rejected` without failing the others. Rejects
   * only when nothing of the batch was committed.
   */
  write(batch: readonly EventRecord[]): Promise<WriteOutcome[]>;

  /** Answers an event or log query, ordered by (time, id) in `order`. */
  query(q: StorageQuery): Promise<QueryPage>;

  /**
   * Deletes at most `limit` records of `kind` older than `before` (ns); returns how many it
   * deleted. The host calls it repeatedly until fewer than `limit` go.
   */
  deleteBefore(kind: RecordKind, before: bigint, limit: number): Promise<number>;

  /** Keeps refused input; resolves once durable. */
  writeRejected(items: readonly RejectedItem[]): Promise<void>;

  /** Newest first, at most `limit`, older than `beforeId` when given. */
  listRejected(limit: number, beforeId?: bigint): Promise<StoredRejectedItem[]>;

  /** Deletes rejected items beyond the newest `keep` or received before `before`. */
  pruneRejected(keep: number, before: bigint): Promise<number>;

  stats(): Promise<StorageStats>;

  /** Whether a write could succeed now. Optional; absent means "open succeeded". */
  ready?(): Promise<boolean>;

  /** Releases everything. Safe to call twice; the second call returns the first's promise. */
  close(): Promise<void>;
}
