/**
 * Conversion between records and Postgres rows, in the column layout the SQLite plugin uses.
 *
 * Postgres text and jsonb cannot hold NUL (U+0000). A payload with NUL is stored with each
 * NUL replaced by a noncharacter that does not occur in that payload, named in the row's
 * `payload_nul` column; reading turns it back. Other text fields with NUL (possible only
 * through a JSON payload's `cluster` or `jobId`) reject their record with `nul_byte`.
 */
import type { EventRecord, RecordKind, StoredRecord } from '../../../core/record.ts';
import { extraToJson, loglevelOf } from '../../../core/record.ts';

/** Columns of COPY and INSERT, in the order of {@link rowValues}. */
export const INSERT_COLUMNS =
  'time, received_at, cluster, name, hostname, type, type_id, stype, stype_id, function, ' +
  'loglevel, job_id, tags, payload, payload_nul, extra, key';

/** Postgres types of {@link INSERT_COLUMNS}, for typed arrays of an `unnest` insert. */
// prettier-ignore
export const INSERT_TYPES = [
  'bigint', 'bigint', 'text', 'text', 'text', 'text', 'text', 'text', 'text', 'text',
  'text', 'text', 'jsonb', 'text', 'text', 'text', 'bigint',
] as const;

/** Columns a query reads, in the order {@link rowToRecord} expects. */
export const SELECT_COLUMNS =
  'id, time, received_at, cluster, name, tags, payload, payload_nul, extra, job_id, key';

/** One row's values: bigint, string or null, in {@link INSERT_COLUMNS} order. */
export type RowValues = Array<bigint | string | null>;

/** Noncharacters that may stand for NUL; all are caseless and mean nothing to LIKE. */
export const NUL_STAND_INS: readonly string[] = [
  '\uFFFF',
  '\uFFFE',
  ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(0xfdd0 + i)),
];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Why a record's times cannot be a row (the rejection reason), or undefined. */
export function timeProblem(r: EventRecord): string | undefined {
  if (r.time < INT64_MIN || r.time > INT64_MAX) return 'time_out_of_range';
  if (r.receivedAt < INT64_MIN || r.receivedAt > INT64_MAX) return 'time_out_of_range';
  return undefined;
}


/** The derived text columns of a record: tags and extra as JSON, payload without NUL. */
interface TextColumns {
  tags: string;
  payload: string;
  standIn: string | null;
  extra: string | null;
}

/** The derived text columns, or undefined when NUL makes the record unstorable. */
function textColumns(r: EventRecord): TextColumns | undefined {
  const t = r.tags;
  const tags = JSON.stringify(t);
  // JSON writes NUL as \u0000; the exact check runs only when that text shows up.
  if (tags.includes('\\u0000') && Object.entries(t).some(([k, v]) => hasNul(k) || hasNul(v))) {
    return undefined;
  }
  if (hasNul(r.cluster) || hasNul(r.name) || (r.jobId !== undefined && hasNul(r.jobId))) {
    return undefined;
  }
  let payload = r.payload;
  let standIn: string | null = null;
  if (hasNul(payload)) {
    const found = standInFor(payload);
    if (found === undefined) return undefined;
    standIn = found;
    payload = payload.replaceAll('\u0000', standIn);
  }
  return { tags, payload, standIn, extra: r.extra ? extraToJson(r.extra) : null };
}

/**
 * The values of a record whose times fit, or undefined when NUL outside the payload (or a
 * payload using every stand-in) makes it unstorable: reject it with `nul_byte`.
 */
export function rowValues(r: EventRecord): RowValues | undefined {
  const c = textColumns(r);
  if (!c) return undefined;
  const t = r.tags;
  return [
    r.time,
    r.receivedAt,
    r.cluster,
    r.name,
    t.hostname ?? null,
    t.type ?? null,
    t['type-id'] ?? null,
    t.stype ?? null,
    t['stype-id'] ?? null,
    t.function ?? null,
    loglevelOf(t),
    r.jobId ?? null,
    c.tags,
    c.payload,
    c.standIn,
    c.extra,
    r.key,
  ];
}

/**
 * The COPY text-format line of a record (tab-separated, `\N` for null, newline included),
 * or undefined as for {@link rowValues}. Written out rather than from the values array:
 * this runs for every stored row, and building no array saves a good part of its time.
 */
export function copyRecord(r: EventRecord): string | undefined {
  const c = textColumns(r);
  if (!c) return undefined;
  const t = r.tags;
  return (
    `${r.time}\t${r.receivedAt}\t${text(r.cluster)}\t${text(r.name)}\t${opt(t.hostname)}\t` +
    `${opt(t.type)}\t${opt(t['type-id'])}\t${opt(t.stype)}\t${opt(t['stype-id'])}\t` +
    `${opt(t.function)}\t${opt(loglevelOf(t))}\t${opt(r.jobId)}\t${text(c.tags)}\t` +
    `${text(c.payload)}\t${opt(c.standIn)}\t${opt(c.extra)}\t${r.key}\n`
  );
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};
const copyEscape = (c: string) => COPY_ESCAPES[c]!;
const text = (v: string) => (COPY_SPECIAL.test(v) ? v.replace(COPY_SPECIAL_ALL, copyEscape) : v);
const opt = (v: string | null | undefined) => (v == null ? '\\N' : text(v));

/** A row as a query returns it in array mode, in {@link SELECT_COLUMNS} order. */
export type RecordRow = [
  id: bigint,
  time: bigint,
  receivedAt: bigint,
  cluster: string,
  name: string,
  tags: Record<string, string>,
  payload: string,
  payloadNul: string | null,
  extra: string | null,
  jobId: string | null,
  key: bigint,
];

/** The record a query row holds. */
export function rowToRecord(kind: RecordKind, row: RecordRow): StoredRecord {
  const [id, time, receivedAt, cluster, name, tags, payload, payloadNul, extra, jobId, key] = row;
  const rec: StoredRecord = {
    kind,
    cluster,
    name,
    time,
    receivedAt,
    tags,
    payload: payloadNul === null ? payload : payload.replaceAll(payloadNul, '\u0000'),
    key,
    id,
  };
  if (extra !== null) rec.extra = JSON.parse(extra) as StoredRecord['extra'];
  if (jobId !== null) rec.jobId = jobId;
  return rec;
}

/** Whether a text holds NUL, which Postgres text cannot store. */
export function hasNul(text: string): boolean {
  return text.includes('\u0000');
}

function standInFor(payload: string): string | undefined {
  return NUL_STAND_INS.find((c) => !payload.includes(c));
}
