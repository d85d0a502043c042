/**
 * The Storage contract: persists events and logs and answers queries. The host opens it
 * first and closes it last; the storage manager is its only writer inside one process.
 */
import type { EventRecord, RecordKind, StoredRecord } from '../record.ts';

/** The outcome of one record of a write. */
export type WriteOutcome =
  { status: 'stored' } | { status: 'duplicate' } | { status: 'rejected'; reason: string };

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
  /**
   * Values inside a JSON payload, all of which must match (see {@link JsonFilter}). Optional
   * to support: backends that do not know it reject a query using it with
   * `CCES_ERR_STORAGE_UNSUPPORTED`.
   */
  json?: JsonFilter[];
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

  /**
   * How many `write` calls the host may have in flight at once (since contract 1.1.0).
   * Absent or 1: one at a time. Above 1 the batches must be safe to write together and may
   * commit in any order; a storage that queues them for one writer of its own (a thread, a
   * connection) keeps that writer busy while the host prepares the next batch. Read before
   * each batch, so it may change while the storage runs.
   */
  readonly writeConcurrency?: number;

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

  /**
   * Counts records per time bucket and group (see {@link CountsQuery}). Optional; the API
   * answers 501 `CCES_ERR_STORAGE_UNSUPPORTED` without it. Read-only, safe to call at any
   * time between `open` and `close`. Rejects with `CCES_ERR_QUERY_INVALID` for a JSON path
   * outside {@link JSON_PATH_PATTERN} or with an index above {@link MAX_JSON_INDEX}, a bucket
   * outside 1 minute .. 1 day or an answer of more than {@link MAX_COUNT_ROWS} rows, and with
   * `CCES_ERR_STORAGE_QUERY` when the database fails.
   */
  counts?(q: CountsQuery): Promise<CountRow[]>;

  /**
   * Runs one read-only SELECT over the store's tables, for `POST /api/v1/sql`. Optional
   * (DuckDB only). Rejects with `CCES_ERR_SQL_REFUSED` for anything but one SELECT or for a
   * query that reaches files, `CCES_ERR_SQL_TIMEOUT` when interrupted after
   * `limits.timeoutMs`, `CCES_ERR_STORAGE_QUERY` for other failures.
   */
  sql?(text: string, limits: SqlLimits): Promise<SqlResult>;

  /**
   * Writes the records of a time range to a temp file the storage creates itself (never a
   * caller-given path). Optional (DuckDB). The caller reads the file, then calls `remove`.
   * Rejects with `CCES_ERR_STORAGE_QUERY` when the database fails.
   */
  exportRange?(req: ExportRequest): Promise<ExportFile>;
}

/** What to export: one kind, a time range (ns, `to` exclusive) and a file format. */
export interface ExportRequest {
  kind: RecordKind;
  from?: bigint;
  to?: bigint;
  format: 'parquet' | 'csv';
}

/** An exported temp file. */
export interface ExportFile {
  path: string;
  /** Deletes the file; safe to call twice. */
  remove(): Promise<void>;
}

/** Limits of an ad-hoc SQL query. */
export interface SqlLimits {
  /** Rows kept; more set `truncated`. */
  maxRows: number;
  /** The query is interrupted after this long. */
  timeoutMs: number;
}

/** The answer of an ad-hoc SQL query; values are JSON (64-bit integers as strings). */
export interface SqlResult {
  columns: Array<{ name: string; type: string }>;
  rows: unknown[][];
  truncated: boolean;
}

/**
 * The JSON paths a query may name: `$` then `.key` or `[index]` steps, such as `$.jobState`
 * or `$.resources[0].hostname`; an index is written without leading zeros (Postgres reads
 * `[01]` as no element, the others as `[1]`) and is at most {@link MAX_JSON_INDEX}. Paths
 * are bound as parameters, never put into SQL text.
 */
export const JSON_PATH_PATTERN = /^\$(\.[A-Za-z_][A-Za-z0-9_]*|\[(0|[1-9]\d*)\])+$/;

/** Largest array index a JSON path may name (DuckDB fails on indexes near 2^64). */
export const MAX_JSON_INDEX = 2_147_483_647;

/**
 * A value inside a JSON payload: the scalar at `path` as text equals `value`. Strings
 * compare unquoted, integers in decimal, booleans as `true`/`false`; a payload that is not
 * JSON or lacks the path never matches.
 */
export interface JsonFilter {
  path: string;
  value: string;
}

/**
 * What a count groups by: a column, a tag (`{tag: 'partition'}`) or a value inside the JSON
 * payload (`{json: '$.jobState'}`, text as in {@link JsonFilter}).
 */
export type CountsGroupBy =
  'name' | 'cluster' | 'hostname' | 'function' | 'loglevel' | { tag: string } | { json: string };

/** Most rows a counts answer holds; a larger answer is refused (narrow it or use `top`). */
export const MAX_COUNT_ROWS = 100_000;

/** Shortest and longest time bucket of a counts query, ns. */
export const BUCKET_RANGE = { min: 60_000_000_000n, max: 86_400_000_000_000n } as const;

/** A counts query: the filters of an event or log query, groups, buckets and top-N. */
export interface CountsQuery extends Omit<StorageQuery, 'order' | 'limit' | 'after'> {
  /** Group keys, in the order the rows' `group` lists their values; may be empty. */
  groupBy: CountsGroupBy[];
  /**
   * Bucket width in ns (1 minute .. 1 day). Buckets are aligned to the epoch: a record of
   * time t falls in the bucket starting at floor(t / bucket) * bucket. Absent: one bucket.
   */
  bucket?: bigint;
  /**
   * Keeps only the `top` groups with the largest counts over the whole range; ties go to
   * the group whose values sort first (bytewise, missing values last).
   */
  top?: number;
}

/**
 * One bucket of one group. Rows come ordered by `start`, then largest `count` first, then by
 * group values (bytewise, missing values last).
 */
export interface CountRow {
  /** Bucket start, ns; absent without `bucket`. */
  start?: bigint;
  /** One value per `groupBy` entry; null where the record lacks it. */
  group: Array<string | null>;
  count: number;
}
