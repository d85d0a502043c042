/**
 * The unit of storage: an event or a log, with its cluster resolved and its identity computed.
 */
import xxhash from 'xxhash-wasm';
import type { FieldValue, Message } from './message.ts';
import { Uint } from './message.ts';

const { h64 } = await xxhash();

/** What the store keeps. */
export type RecordKind = 'event' | 'log';

/** An event or log ready to be written. Tag and payload text are data, never SQL or paths. */
export interface EventRecord {
  kind: RecordKind;
  cluster: string;
  /** The measurement. */
  name: string;
  /** Event time, ns since the epoch. */
  time: bigint;
  /** When the store received it, ns since the epoch. */
  receivedAt: bigint;
  /** Every tag but `cluster`, as sent. */
  tags: Record<string, string>;
  /** The `event` or `log` string. */
  payload: string;
  /** Fields other than the payload field; undefined when there are none. */
  extra?: Record<string, FieldValue>;
  /** `jobId` of a JSON-object payload, as text; undefined when there is none. */
  jobId?: string;
  /**
   * Identity for de-duplication: a 64-bit hash of kind, cluster, name, time, sorted tags,
   * payload and extra fields. Storages keep (time, key) unique.
   */
  key: bigint;
}

/** A stored record as a query returns it. */
export interface StoredRecord extends EventRecord {
  /** Storage-assigned, increasing within a backend; with `time` it orders and pages results. */
  id: bigint;
}

/** Why a message is refused before storage, or by storage. */
export type RejectReason =
  | 'syntax'
  | 'no_cluster'
  | 'comma_in_cluster'
  | 'storage'
  | (string & {});

/** Result of turning a message into a record. */
export type BuildResult =
  | { ok: true; record: EventRecord }
  | { ok: false; reason: RejectReason; detail: string };

/**
 * Builds the record of an event or log message. The cluster comes from the `cluster` tag,
 * else from the `cluster` key of a JSON-object payload, else from `defaultCluster`.
 */
export function buildRecord(
  msg: Message,
  kind: 'event' | 'log',
  receivedAt: bigint,
  defaultCluster?: string,
): BuildResult {
  const payload = msg.fields[kind] as string;
  let cluster: string | undefined = msg.tags.cluster;
  const json = needsJson(payload, cluster === undefined) ? payloadObject(payload) : undefined;
  if (cluster === undefined && json && typeof json.cluster === 'string' && json.cluster !== '') {
    cluster = json.cluster;
  }
  cluster ??= defaultCluster;
  if (cluster === undefined || cluster === '') {
    return { ok: false, reason: 'no_cluster', detail: 'no cluster tag, JSON cluster or default' };
  }
  // Cluster filters split at commas, so such a cluster could never be queried.
  if (cluster.includes(',')) {
    return { ok: false, reason: 'comma_in_cluster', detail: `cluster "${cluster}" holds a comma` };
  }

  const tags = nullObject<string>();
  for (const k in msg.tags) if (k !== 'cluster') tags[k] = msg.tags[k]!;
  let extra: Record<string, FieldValue> | undefined;
  for (const k in msg.fields) {
    if (k === kind) continue;
    extra ??= nullObject<FieldValue>();
    extra[k] = msg.fields[k]!;
  }
  const jobId =
    json && json.jobId !== undefined && json.jobId !== null ? String(json.jobId) : undefined;
  const record = new RecordObject(
    kind,
    cluster,
    msg.name,
    msg.time,
    receivedAt,
    tags,
    payload,
    extra,
    jobId,
  );
  record.key = recordKey(record);
  return { ok: true, record };
}

/**
 * The log level of a record's tags as storages index it: the `loglevel` tag, else the
 * `level` tag (node-controller replies), lowercased; null when there is neither.
 */
export function loglevelOf(tags: Record<string, string>): string | null {
  const v = tags.loglevel ?? tags.level;
  return v === undefined ? null : v.toLowerCase();
}

/** The de-duplication key of a record (see {@link EventRecord.key}). */
export function recordKey(r: Omit<EventRecord, 'key'>): bigint {
  const tags = r.tags;
  const keys = sortedKeys(tags);
  let text = r.kind + '\u0000' + r.cluster + '\u0000' + r.name + '\u0000' + r.time + '\u0000';
  for (let i = 0; i < keys.length; i++) text += keys[i] + '\u0001' + tags[keys[i]!] + '\u0000';
  text += '\u0002' + r.payload;
  if (r.extra) text += '\u0002' + extraToJson(r.extra);
  return BigInt.asIntN(64, h64(text));
}

/** The keys of `obj` sorted; producers mostly send tags sorted already, so check first. */
function sortedKeys(obj: object): string[] {
  const keys = Object.keys(obj);
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort();
  return keys;
}

/**
 * Serialises extra fields as a JSON object. Integers are written as JSON numbers with all
 * their digits; unsigned ones too. Keys are sorted so equal fields give equal text.
 */
export function extraToJson(extra: Record<string, FieldValue>): string {
  const parts: string[] = [];
  for (const k of Object.keys(extra).sort()) {
    const v = extra[k];
    let text: string;
    if (typeof v === 'bigint') text = v.toString();
    else if (v instanceof Uint) text = v.value.toString();
    else text = JSON.stringify(v);
    parts.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Whether the payload must be parsed: for its cluster when the message has no cluster tag,
 * else only when it may hold a `jobId` key. JSON may spell a key with backslash-u escapes,
 * which a plain text search would miss, so payloads with any such escape are parsed too.
 */
function needsJson(payload: string, forCluster: boolean): boolean {
  if (payload.charCodeAt(0) !== 123 /* { */) return false;
  return forCluster || payload.includes('"jobId"') || payload.includes('\\u');
}

/** A null-prototype object in V8's fast mode (Object.create(null) gives a slow dictionary). */
function nullObject<T>(): Record<string, T> {
  return Object.setPrototypeOf({}, null) as Record<string, T>;
}

/**
 * Records are made by a constructor rather than a literal: V8 tracks literals by allocation
 * site and, once many records stay alive in a queue, allocates all later ones straight in
 * the old generation (see core/lineproto/objects.ts).
 */
const RecordObject = function (
  this: EventRecord,
  kind: RecordKind,
  cluster: string,
  name: string,
  time: bigint,
  receivedAt: bigint,
  tags: Record<string, string>,
  payload: string,
  extra: Record<string, FieldValue> | undefined,
  jobId: string | undefined,
) {
  this.kind = kind;
  this.cluster = cluster;
  this.name = name;
  this.time = time;
  this.receivedAt = receivedAt;
  this.tags = tags;
  this.payload = payload;
  this.extra = extra;
  this.jobId = jobId;
  this.key = 0n;
} as unknown as new (
  kind: RecordKind,
  cluster: string,
  name: string,
  time: bigint,
  receivedAt: bigint,
  tags: Record<string, string>,
  payload: string,
  extra: Record<string, FieldValue> | undefined,
  jobId: string | undefined,
) => EventRecord;
RecordObject.prototype = Object.prototype;

/** Parses a payload that looks like a JSON object; undefined for anything else. */
function payloadObject(payload: string): Record<string, unknown> | undefined {
  if (payload.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    const v: unknown = JSON.parse(payload);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    // Payloads need not be valid JSON (under-escaped producers); such a payload simply has no
    // JSON cluster or jobId.
    return undefined;
  }
}
