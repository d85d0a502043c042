/**
 * The filters of `GET /api/v1/events` and `/api/v1/logs`, from query string to storage
 * query.
 */
import { Type, type Static } from 'typebox';
import type { StorageQuery } from '../../../core/contracts/storage.ts';
import { createError } from '../../../core/errors.ts';
import type { RecordKind } from '../../../core/record.ts';
import { impossibleDateTime } from '../../../core/calendar.ts';
import { parseRfc3339 } from '../../../core/time.ts';
import { decodeCursor } from './cursor.ts';

/** Most records one answer holds. */
export const MAX_LIMIT = 10_000;

const DEFAULT_LIMIT = 100;

/**
 * Most `tag.<key>=` filters one query may give, and most `json.<path>=` filters: each is one
 * more condition, and SQLite refuses a condition nested 1000 deep (about 1000 filters).
 */
export const MAX_KEYED_FILTERS = 100;

const List = (description: string) =>
  Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description }));

/** Query string of the event and log routes. */
export const RecordQuerySchema = Type.Object(
  {
    cluster: List('cluster names; repeat the parameter or separate them with commas'),
    hostname: List('hostname tag'),
    name: List('measurement name'),
    type: List('type tag'),
    'type-id': List('type-id tag'),
    stype: List('stype tag'),
    'stype-id': List('stype-id tag'),
    function: List('function tag'),
    loglevel: List('loglevel (or level) tag, case-insensitive'),
    level: List('same as loglevel'),
    text: Type.Optional(Type.String({ minLength: 1, description: 'substring of the payload' })),
    jobId: Type.Optional(Type.String({ minLength: 1, description: 'jobId of a JSON payload' })),
    from: Type.Optional(Type.String({ description: 'inclusive: Unix time or RFC 3339' })),
    to: Type.Optional(Type.String({ description: 'exclusive: Unix time or RFC 3339' })),
    precision: Type.Optional(Type.Enum(['s', 'ms', 'us', 'ns'])),
    order: Type.Optional(Type.Enum(['asc', 'desc'])),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
    cursor: Type.Optional(Type.String()),
    format: Type.Optional(Type.Enum(['json', 'ndjson', 'csv', 'lp'])),
  },
  {
    additionalProperties: false,
    patternProperties: { '^tag\\..+$': Type.String() },
    description: `tag.<key>=<value> matches any tag exactly; at most ${MAX_KEYED_FILTERS} of them`,
  },
);

/** The parsed query string. */
export type RecordQueryString = Static<typeof RecordQuerySchema>;

const FACTOR = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n } as const;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

/** Builds the storage query; throws `CCES_ERR_QUERY_INVALID` for bad times or cursors. */
export function toStorageQuery(kind: RecordKind, q: RecordQueryString): StorageQuery {
  const out: StorageQuery = {
    kind,
    order: q.order ?? 'desc',
    limit: q.limit ?? DEFAULT_LIMIT,
  };
  if (q.cluster) out.clusters = clusterNames(q.cluster);
  if (q.hostname) out.hostnames = q.hostname;
  if (q.name) out.names = q.name;
  if (q.type) out.types = q.type;
  if (q['type-id']) out.typeIds = q['type-id'];
  if (q.stype) out.stypes = q.stype;
  if (q['stype-id']) out.stypeIds = q['stype-id'];
  if (q.function) out.functions = q.function;
  if (q.loglevel || q.level) out.loglevels = [...(q.loglevel ?? []), ...(q.level ?? [])];
  if (q.text !== undefined) out.text = q.text;
  if (q.jobId !== undefined) out.jobId = q.jobId;

  const tags = tagFilters(q);
  if (tags) out.tags = tags;
  if (q.from !== undefined) out.from = parseTime(q.from, q.precision ?? 's', 'from');
  if (q.to !== undefined) out.to = parseTime(q.to, q.precision ?? 's', 'to');
  refuseInvertedRange(out.from, out.to, q.from, q.to);
  if (q.cursor !== undefined) out.after = decodeCursor(q.cursor);
  return out;
}

/**
 * Reads a time: an integer in `precision` units, decimal seconds (`1735732800.5`), or
 * RFC 3339. Exact to the nanosecond. An impossible date or time (February 30, 24:00) is
 * refused, not rolled over.
 */
export function parseTime(text: string, precision: keyof typeof FACTOR, param: string): bigint {
  const t = readTime(text, precision);
  if (t !== undefined && t >= INT64_MIN && t <= INT64_MAX) return t;
  const why = t === undefined ? unreadable(text, precision) : outOfRange(text, precision);
  throw createError('CCES_ERR_QUERY_INVALID', `${param}: "${text}" ${why}`, { param, value: text });
}

/**
 * Throws `CCES_ERR_QUERY_INVALID` when `from` is after `to`: such a range selects nothing and is
 * more likely swapped bounds than a question. `fromText` and `toText` are the times as given.
 */
export function refuseInvertedRange<T extends bigint | number>(
  from: T | undefined,
  to: T | undefined,
  fromText = String(from),
  toText = String(to),
): void {
  if (from === undefined || to === undefined || from <= to) return;
  const message = `from (${fromText}) must not be after to (${toText})`;
  throw createError('CCES_ERR_QUERY_INVALID', message, { param: 'from', value: fromText });
}

function readTime(text: string, precision: keyof typeof FACTOR): bigint | undefined {
  if (/^-?\d+$/.test(text)) return BigInt(text) * FACTOR[precision];
  const dec = /^(-?)(\d+)\.(\d{1,9})$/.exec(text);
  if (dec && precision === 's') {
    const ns = BigInt(dec[2]!) * FACTOR.s + BigInt(dec[3]!.padEnd(9, '0'));
    return dec[1] === '-' ? -ns : ns;
  }
  return parseRfc3339(text);
}

// Stored times are int64 ns; a Unix time is told the bounds in its own unit.
function outOfRange(text: string, precision: keyof typeof FACTOR): string {
  const years = '(years 1677 to 2262)';
  if (!/^-?\d+(\.\d+)?$/.test(text)) return `is out of range ${years}`;
  const [min, max] = [INT64_MIN / FACTOR[precision], INT64_MAX / FACTOR[precision]];
  return `is out of range: Unix times in ${precision} run from ${min} to ${max} ${years}`;
}

function unreadable(text: string, precision: string): string {
  const impossible = impossibleDateTime(text);
  if (impossible !== undefined) return `is no real date and time: ${impossible}`;
  // A URL query reads an unencoded "+" as a space, so "+01:00" arrives as " 01:00".
  const plus = / \d{2}:\d{2}$/.test(text) && /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:/.test(text);
  return (
    `is neither a Unix time in ${precision} nor RFC 3339 (such as 2025-01-01T12:00:00Z)` +
    (plus ? '; if the offset was "+hh:mm", encode the "+" as %2B' : '')
  );
}

/** The names of `cluster=` values: each value is split at commas; no name may be empty. */
function clusterNames(values: string[]): string[] {
  const empty = values.find((v) => v.split(',').includes(''));
  if (empty !== undefined) {
    throw createError(
      'CCES_ERR_QUERY_INVALID',
      `cluster: "${empty}" holds an empty cluster name; separate names with single commas`,
      { param: 'cluster', value: empty },
    );
  }
  return values.flatMap((v) => v.split(','));
}

function tagFilters(q: RecordQueryString): Record<string, string> | undefined {
  let tags: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(q)) {
    if (!k.startsWith('tag.') || typeof v !== 'string') continue;
    tags ??= Object.create(null) as Record<string, string>;
    tags[k.slice(4)] = v;
  }
  refuseManyFilters('tag.<key>', tags ? Object.keys(tags).length : 0);
  return tags;
}

/**
 * Throws `CCES_ERR_QUERY_INVALID` when a query gives more than {@link MAX_KEYED_FILTERS}
 * filters of one kind (`tag.<key>`, `json.<path>`).
 */
export function refuseManyFilters(param: string, count: number): void {
  if (count <= MAX_KEYED_FILTERS) return;
  const message = `${param}: at most ${MAX_KEYED_FILTERS} filters, found ${count}`;
  throw createError('CCES_ERR_QUERY_INVALID', message, { param });
}
