/**
 * `GET /api/query/` (JSON body) and `POST /api/query/`: the original cc-event-store query.
 * The answer keeps the original's shape: `results[i]` answers `queries[i]` with one block
 * per requested type-id (one block when none is given), each `{from, to, data, error?}`
 * with `data` entries `{Event, timestamp}` (payload, Unix seconds) plus the name, kind,
 * exact ns time and tags. `from` and `to` are inclusive Unix seconds, as in the original
 * (`from` after `to` is a 400, as on the GET routes, where the original answered nothing);
 * every field but `cluster` may be left out. Events and logs both answer. An unknown key,
 * at the top or in a query, is a 400 that names its path, as the GET routes refuse unknown
 * parameters: the original ignored them, so a misspelt filter matched everything. A request
 * and its answer are bounded (see {@link COMPAT_LIMITS}).
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { closest, findUnknownKey } from '../../../core/config/schema-check.ts';
import { listNames } from '../../../core/config/problem.ts';
import type { Storage, StorageQuery } from '../../../core/contracts/storage.ts';
import { createError } from '../../../core/errors.ts';
import type { StoredRecord } from '../../../core/record.ts';
import { acceptJsonBodies } from '../../shared/http/body.ts';
import { refuseInvertedRange } from './record-query.ts';
import { ErrorSchema, type RouteDeps } from './route-deps.ts';

const PAGE = 10_000;

// Whole seconds whose nanoseconds fit in int64.
const Seconds = Type.Integer({
  minimum: -9_223_372_036,
  maximum: 9_223_372_035,
  description: 'inclusive, Unix seconds',
});

// The Go client sends unset fields as null. The body parser drops them (dropNulls), so the
// schema needs no null branches, whose errors would hide the one that matters.
const NULL_OK = 'null counts as not given';
const OptText = Type.Optional(Type.String({ description: NULL_OK }));
const OptIds = Type.Optional(Type.Array(Type.String(), { description: NULL_OK }));

const ApiQuerySchema = Type.Object(
  {
    event: OptText,
    host: OptText,
    type: OptText,
    subtype: OptText,
    'type-ids': OptIds,
    'subtype-ids': OptIds,
  },
  { additionalProperties: false },
);

const ApiQueryRequestSchema = Type.Object(
  {
    cluster: Type.String({ minLength: 1 }),
    from: Type.Optional(Seconds),
    to: Type.Optional(Seconds),
    queries: Type.Optional(Type.Array(ApiQuerySchema, { description: NULL_OK })),
    'for-all-nodes': Type.Optional(
      Type.Array(Type.String(), { description: `names to query on every host; ${NULL_OK}` }),
    ),
  },
  { additionalProperties: false },
);

const EntrySchema = Type.Object({
  Event: Type.String({ description: 'the payload (event or log text)' }),
  timestamp: Type.Integer({ description: 'Unix seconds' }),
  time: Type.String({ description: 'exact time, ns' }),
  name: Type.String(),
  kind: Type.String(),
  tags: Type.Record(Type.String(), Type.String()),
});

const BlockSchema = Type.Object({
  from: Type.Integer(),
  to: Type.Integer(),
  data: Type.Array(EntrySchema),
  error: Type.Optional(Type.String()),
});

const ApiQueryResponseSchema = Type.Object({
  queries: Type.Optional(Type.Array(ApiQuerySchema)),
  results: Type.Array(Type.Array(BlockSchema)),
});

type ApiQuery = Static<typeof ApiQuerySchema>;
type ApiQueryRequest = Static<typeof ApiQueryRequestSchema>;
type Block = Static<typeof BlockSchema>;

/** Registers the compatibility query for GET (with a body) and POST. */
export function registerCompatQuery({ app, ctx, authenticate }: RouteDeps): void {
  app.register(async (child: FastifyInstance) => {
    // The original reads the body as JSON whatever its content type (curl -d sends a form type).
    acceptJsonBodies(child, dropNulls);
    child.route({
      method: ['GET', 'POST'],
      url: '/api/query',
      exposeHeadRoute: false,
      // Ajv's type coercion rewrites data while it tries the branches of a union (a
      // one-element array becomes its element); TypeBox checks the JSON body as it is.
      validatorCompiler: TypeBoxValidatorCompiler,
      schema: {
        body: ApiQueryRequestSchema,
        response: { 200: ApiQueryResponseSchema, '4xx': ErrorSchema, '5xx': ErrorSchema },
      },
      onRequest: authenticate,
      preValidation: refuseUnknownKeys,
      handler: async (request) => answer(ctx.storage, request.body as ApiQueryRequest),
    });
  });
}

/**
 * Refuses the first key the contract does not know, naming its path and the known keys; runs
 * before the schema check, whose message would name neither the key nor a likely spelling.
 */
async function refuseUnknownKeys(request: FastifyRequest): Promise<void> {
  const hit = findUnknownKey(ApiQueryRequestSchema, request.body, 'body');
  if (!hit) return;
  const guess = closest(hit.name, hit.known);
  const hint = guess ? `; did you mean "${guess}"?` : '';
  const message = `${hit.key}: unknown key (known: ${listNames(hit.known)})${hint}`;
  throw createError('CCES_ERR_QUERY_INVALID', message, { param: hit.key, value: hit.name });
}

/** Bounds of one answer; see {@link COMPAT_LIMITS}. */
export interface CompatLimits {
  /** Blocks one request may ask for: its queries (with for-all-nodes) times their type-ids. */
  blocks: number;
  /** Entries one answer holds over all its blocks. */
  entries: number;
}

/**
 * A request naming thousands of type-ids, or matching millions of entries, must neither
 * hold the thread nor the memory of the store: more blocks are a 400, and an answer stops at
 * 100,000 entries, the blocks cut short saying so.
 */
export const COMPAT_LIMITS: CompatLimits = { blocks: 1_000, entries: 100_000 };

/**
 * Answers a request: one storage read per query and kind, all its type-ids at once (a read
 * per type-id scanned the cluster's records once per id), split into blocks afterwards.
 * Storage is read in pages with the event loop served between them, so that ingest, health
 * checks and shutdown go on during a long answer.
 */
export async function answer(
  storage: Storage,
  req: ApiQueryRequest,
  limits: CompatLimits = COMPAT_LIMITS,
) {
  refuseInvertedRange(req.from, req.to);
  const extra = (req['for-all-nodes'] ?? []).map((event): ApiQuery => ({ event }));
  const queries = [...(req.queries ?? []), ...extra];
  const blocks = queries.reduce((n, q) => n + (nonEmpty(q['type-ids'])?.length ?? 1), 0);
  if (blocks > limits.blocks) {
    const message =
      `body: at most ${limits.blocks} blocks (queries times their type-ids), ` +
      `found ${blocks}; split the request`;
    throw createError('CCES_ERR_QUERY_INVALID', message, { param: 'body' });
  }
  const span = { from: req.from ?? 0, to: req.to ?? 0 };
  const cutShort =
    `more than ${limits.entries} results in this answer; ` +
    'the blocks are cut short, narrow the query';
  let room = limits.entries;
  const results: Block[][] = [];
  for (const q of queries) {
    const typeIds = nonEmpty(q['type-ids']);
    const { records, cut } = await read(storage, filterOf(req, q, typeIds), room);
    room -= records.length;
    const block = (data: StoredRecord[]): Block => {
      const b: Block = { ...span, data: data.map(entry) };
      if (cut) b.error = cutShort;
      return b;
    };
    if (typeIds === undefined) {
      results.push([block(records)]);
      continue;
    }
    const byId = new Map<string, StoredRecord[]>();
    for (const r of records) {
      const id = r.tags['type-id']!;
      const list = byId.get(id);
      if (list) list.push(r);
      else byId.set(id, [r]);
    }
    results.push(typeIds.map((id) => block(byId.get(id) ?? [])));
  }
  return extra.length > 0 ? { queries, results } : { results };
}

type Filter = Omit<StorageQuery, 'kind' | 'limit' | 'order'>;

function filterOf(req: ApiQueryRequest, q: ApiQuery, typeIds: string[] | undefined): Filter {
  const filter: Filter = { clusters: [req.cluster] };
  if (q.event) filter.names = [q.event];
  if (q.host) filter.hostnames = [q.host];
  if (q.type) filter.types = [q.type];
  if (q.subtype) filter.stypes = [q.subtype];
  if (typeIds) filter.typeIds = [...new Set(typeIds)];
  const stypeIds = nonEmpty(q['subtype-ids']);
  if (stypeIds) filter.stypeIds = stypeIds;
  if (req.from !== undefined) filter.from = BigInt(req.from) * 1_000_000_000n;
  if (req.to !== undefined) filter.to = (BigInt(req.to) + 1n) * 1_000_000_000n;
  return filter;
}

/** Events and logs of `filter`, oldest first, at most `room`; `cut` when there were more. */
async function read(storage: Storage, filter: Filter, room: number) {
  const [events, logs] = await Promise.all([
    readKind(storage, { ...filter, kind: 'event' }, room + 1),
    readKind(storage, { ...filter, kind: 'log' }, room + 1),
  ]);
  const records = merge(events, logs);
  return { records: records.slice(0, room), cut: records.length > room };
}

/** Reads one kind in ascending order, at most `max` records. */
async function readKind(storage: Storage, q: Omit<StorageQuery, 'limit' | 'order'>, max: number) {
  const out: StoredRecord[] = [];
  let after: StorageQuery['after'];
  while (out.length < max) {
    // A synchronous storage (SQLite) answers without giving the event loop a turn.
    await nextTurn();
    const limit = Math.min(PAGE, max - out.length);
    const page = await storage.query({ ...q, order: 'asc', limit, after });
    for (const r of page.records) out.push(r);
    after = page.next;
    if (after === undefined) break;
  }
  return out;
}

function merge(a: StoredRecord[], b: StoredRecord[]): StoredRecord[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  return [...a, ...b].sort((x, y) => (x.time < y.time ? -1 : x.time > y.time ? 1 : 0));
}

function entry(r: StoredRecord) {
  return {
    Event: r.payload,
    timestamp: floorSeconds(r.time),
    time: String(r.time),
    name: r.name,
    kind: r.kind,
    tags: r.tags,
  };
}

function floorSeconds(ns: bigint): number {
  const s = ns / 1_000_000_000n;
  return Number(ns < 0n && s * 1_000_000_000n !== ns ? s - 1n : s);
}

/** Drops the fields that may be null (`queries`, `for-all-nodes`, those of a query). */
function dropNulls(body: unknown): unknown {
  if (!isObject(body)) return body;
  const out = { ...body };
  if (out.queries === null) delete out.queries;
  if (out['for-all-nodes'] === null) delete out['for-all-nodes'];
  const queries = out.queries;
  if (Array.isArray(queries)) out.queries = queries.map((q) => (isObject(q) ? noNulls(q) : q));
  return out;
}

// An unknown key keeps its null, so that it is refused like any other unknown key.
function noNulls(o: Record<string, unknown>): Record<string, unknown> {
  const known = ApiQuerySchema.properties;
  return Object.fromEntries(
    Object.entries(o).filter(([k, v]) => v !== null || !Object.hasOwn(known, k)),
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmpty(ids: string[] | undefined): string[] | undefined {
  return ids && ids.length > 0 ? ids : undefined;
}
