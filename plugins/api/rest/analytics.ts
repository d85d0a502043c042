/**
 * `GET /api/v1/analytics/counts`: counts of events or logs per time bucket and group, with
 * the filters of the query routes.
 *
 * Answer: `{ buckets: [{ start, rfc3339, group, count }] }`. `start` is the bucket start in
 * ns as a string (buckets are aligned to the epoch: floor(time / bucket) * bucket) and
 * `rfc3339` the same instant; both are null without `bucket`. `group` maps each `group_by`
 * entry as written (`name`, `tag.partition`, `json.$.jobState`) to its value, null where a
 * record lacks it. Rows are ordered by start, then largest count, then group values.
 */
import { Type, type TSchema } from 'typebox';
import { checkJsonPath } from '../../../core/analytics.ts';
import type { CountsGroupBy, CountsQuery, JsonFilter } from '../../../core/contracts/storage.ts';
import { parseDuration } from '../../../core/duration.ts';
import { createError } from '../../../core/errors.ts';
import { formatRfc3339 } from '../../../core/time.ts';
import {
  MAX_KEYED_FILTERS,
  RecordQuerySchema,
  refuseManyFilters,
  toStorageQuery,
  type RecordQueryString,
} from './record-query.ts';
import { ErrorSchema, type RouteDeps } from './route-deps.ts';

// Paging and output keys of the query routes mean nothing for counts.
const NOT_COUNTED = new Set(['order', 'limit', 'cursor', 'format']);

const filters: Record<string, TSchema> = Object.fromEntries(
  Object.entries(RecordQuerySchema.properties).filter(([k]) => !NOT_COUNTED.has(k)),
);

const COLUMNS = new Set(['name', 'cluster', 'hostname', 'function', 'loglevel']);

/** Query string of the counts route. */
export const CountsQuerySchema = Type.Object(
  {
    ...filters,
    kind: Type.Optional(Type.Enum(['event', 'log'], { description: 'default event' })),
    group_by: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'name, cluster, hostname, function, loglevel, tag.<key>, json.<path>',
      }),
    ),
    bucket: Type.Optional(Type.String({ description: 'bucket width, "1m" to "24h"' })),
    top: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  },
  {
    additionalProperties: false,
    patternProperties: { '^tag\\..+$': Type.String(), '^json\\..+$': Type.String() },
    description:
      'tag.<key>=<value> matches a tag; json.<path>=<value> a value in the payload; ' +
      `at most ${MAX_KEYED_FILTERS} of each`,
  },
);

const CountsAnswerSchema = Type.Object({
  buckets: Type.Array(
    Type.Object({
      start: Type.Union([Type.String(), Type.Null()], { description: 'ns since the epoch' }),
      rfc3339: Type.Union([Type.String(), Type.Null()]),
      group: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()])),
      count: Type.Integer(),
    }),
  ),
});

/** Registers the counts route. */
export function registerCountsRoute({ app, ctx, authenticate }: RouteDeps): void {
  app.get('/api/v1/analytics/counts', {
    schema: {
      querystring: CountsQuerySchema,
      response: { 200: CountsAnswerSchema, '4xx': ErrorSchema, '5xx': ErrorSchema },
    },
    onRequest: authenticate,
    handler: async (request) => {
      const storage = ctx.storage;
      if (!storage.counts) {
        throw createError(
          'CCES_ERR_STORAGE_UNSUPPORTED',
          'this storage backend does not count; use sqlite, duckdb or postgres',
        );
      }
      const raw = request.query as Record<string, unknown>;
      const keys = (raw.group_by as string[] | undefined)?.flatMap((g) => g.split(',')) ?? [];
      const q = toCountsQuery(
        raw,
        keys.filter((k) => k !== ''),
      );
      const rows = await storage.counts(q);
      const labels = keys.filter((k) => k !== '');
      return {
        buckets: rows.map((r) => ({
          start: r.start === undefined ? null : String(r.start),
          rfc3339: r.start === undefined ? null : formatRfc3339(r.start),
          group: Object.fromEntries(labels.map((k, i) => [k, r.group[i] ?? null])),
          count: r.count,
        })),
      };
    },
  });
}

/** Builds the storage's counts query; throws `CCES_ERR_QUERY_INVALID`. */
export function toCountsQuery(raw: Record<string, unknown>, keys: string[]): CountsQuery {
  const kind = (raw.kind as 'event' | 'log' | undefined) ?? 'event';
  const {
    order: _o,
    limit: _l,
    after: _a,
    ...base
  } = toStorageQuery(kind, raw as RecordQueryString);
  const q: CountsQuery = { ...base, groupBy: keys.map(groupKey) };
  const json: JsonFilter[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (!k.startsWith('json.') || typeof v !== 'string') continue;
    json.push({ path: checkJsonPath(k.slice(5), k), value: v });
  }
  refuseManyFilters('json.<path>', json.length);
  if (json.length) q.json = json;
  if (typeof raw.top === 'number') q.top = raw.top;
  if (typeof raw.bucket === 'string') q.bucket = bucketOf(raw.bucket);
  return q;
}

function groupKey(key: string): CountsGroupBy {
  if (COLUMNS.has(key)) return key as Extract<CountsGroupBy, string>;
  if (key.startsWith('tag.') && key.length > 4) return { tag: key.slice(4) };
  if (key.startsWith('json.') && key.length > 5) {
    return { json: checkJsonPath(key.slice(5), 'group_by') };
  }
  throw createError(
    'CCES_ERR_QUERY_INVALID',
    `group_by: "${key.slice(0, 80)}" is none of name, cluster, hostname, function, loglevel, ` +
      'tag.<key>, json.<path>',
    { key: key.slice(0, 256) },
  );
}

function bucketOf(text: string): bigint {
  try {
    return parseDuration(text);
  } catch (err) {
    throw createError(
      'CCES_ERR_QUERY_INVALID',
      `bucket: "${text.slice(0, 40)}" is not a duration such as "1m", "1h" or "24h"`,
      { value: text.slice(0, 64) },
      err,
    );
  }
}
