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
export type RejectReason = 'syntax' | 'no_cluster' | 'storage' | (string & {});

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
  const json = payloadObject(payload);
  let cluster: string | undefined = msg.tags.cluster;
  if (cluster === undefined && json && typeof json.cluster === 'string' && json.cluster !== '') {
    cluster = json.cluster;
  }
  cluster ??= defaultCluster;
  if (cluster === undefined || cluster === '') {
    return { ok: false, reason: 'no_cluster', detail: 'no cluster tag, JSON cluster or default' };
  }
  const resolved: string = cluster;

  const tags: Record<string, string> = Object.create(null);
  for (const k in msg.tags) if (k !== 'cluster') tags[k] = msg.tags[k]!;
  let extra: Record<string, FieldValue> | undefined;
  for (const k in msg.fields) {
    if (k === kind) continue;
    extra ??= Object.create(null) as Record<string, FieldValue>;
    extra[k] = msg.fields[k]!;
  }
  const jobId = json && json.jobId !== undefined && json.jobId !== null ? String(json.jobId) : undefined;
  const record: EventRecord = {
    kind,
    cluster: resolved,
    name: msg.name,
    time: msg.time,
    receivedAt,
    tags,
    payload,
    extra,
    jobId,
    key: 0n,
  };
  record.key = recordKey(record);
  return { ok: true, record };
}

/** The de-duplication key of a record (see {@link EventRecord.key}). */
export function recordKey(r: Omit<EventRecord, 'key'>): bigint {
  let text = `${r.kind}\u0000${r.cluster}\u0000${r.name}\u0000${r.time}\u0000`;
  for (const k of Object.keys(r.tags).sort()) text += `${k}\u0001${r.tags[k]}\u0000`;
  text += `\u0002${r.payload}`;
  if (r.extra) text += `\u0002${extraToJson(r.extra)}`;
  return BigInt.asIntN(64, h64(text));
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
