/**
 * `GET /api/v1/events/stream` and `/api/v1/logs/stream`: live tails as Server-Sent Events,
 * with the filters of the query routes. Each event's `id` is the record's cursor; a client
 * that reconnects with `Last-Event-ID` (or `?last_event_id=`) first gets every stored record
 * after it, then the live ones. Without one the tail starts at the newest record, or replays
 * from `from` when given. EventSource cannot send headers, so `?token=` is taken as the token.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TSchema } from 'typebox';
import type { RecordKind } from '../../../core/record.ts';
import { decodeCursor, type Position } from './cursor.ts';
import { LiveTail, type TailLimits } from './live-tail.ts';
import {
  MAX_KEYED_FILTERS,
  RecordQuerySchema,
  toStorageQuery,
  type RecordQueryString,
} from './record-query.ts';
import { ErrorSchema, type RouteDeps } from './route-deps.ts';

/** Default limits of a tail. */
export const DEFAULT_TAIL_LIMITS: TailLimits = {
  maxBufferBytes: 1024 * 1024,
  stallMs: 30_000,
  pageSize: 500,
  heartbeatMs: 15_000,
};

// Paging and output keys of the query routes mean nothing for a stream.
const NOT_STREAMED = new Set(['to', 'order', 'limit', 'cursor', 'format']);

const properties: Record<string, TSchema> = Object.fromEntries(
  Object.entries(RecordQuerySchema.properties).filter(([k]) => !NOT_STREAMED.has(k)),
);

/** Query string of the stream routes. */
export const StreamQuerySchema = Type.Object(
  {
    ...properties,
    last_event_id: Type.Optional(Type.String({ description: 'resume after this event id' })),
    token: Type.Optional(Type.String({ description: 'the JWT, for clients without headers' })),
  },
  {
    additionalProperties: false,
    patternProperties: { '^tag\\..+$': Type.String() },
    description:
      'the filters of GET /api/v1/events; tag.<key>=<value> matches any tag ' +
      `(${MAX_KEYED_FILTERS} at most)`,
  },
);

/** Registers both stream routes; tails still open end with a `close` event on shutdown. */
export function registerStreamRoutes(
  { app, ctx, authenticate }: RouteDeps,
  limits: TailLimits = DEFAULT_TAIL_LIMITS,
): void {
  const feed = ctx.commits;
  if (!feed) return;
  const tails = new Set<LiveTail>();
  app.addHook('preClose', async () => {
    for (const t of tails) t.stop('close', 'CCES_ERR_STREAM_CLOSED', 'the server is stopping');
  });

  for (const kind of ['event', 'log'] as const) {
    app.get(`/api/v1/${kind}s/stream`, {
      schema: {
        querystring: StreamQuerySchema,
        response: {
          200: Type.String({ description: 'text/event-stream; data: one item as in /api/v1/' }),
          '4xx': ErrorSchema,
          '5xx': ErrorSchema,
        },
      },
      onRequest: [tokenFromQuery, authenticate],
      handler: async (request, reply) => {
        const q = request.query as Record<string, unknown>;
        const { last_event_id: lastId, token: _token, ...filters } = q;
        const query = toStorageQuery(kind as RecordKind, filters as RecordQueryString);
        const cursor = resumeCursor(request.headers['last-event-id'], lastId);

        const tail = new LiveTail(reply.raw, ctx.storage, query, cursor, limits);
        tails.add(tail);
        tail.onEnd = () => tails.delete(tail);
        (reply as FastifyReply).hijack();
        await tail.start(feed, query.from === undefined).catch((err: unknown) => {
          const code = (err as { code?: string }).code ?? 'CCES_ERR_STORAGE_QUERY';
          tail.stop('error', code, `the live tail failed: ${(err as Error).message}`);
        });
      },
    });
  }
}

/** Where to resume: the `Last-Event-ID` header, else `?last_event_id=`, each named if bad. */
function resumeCursor(header: unknown, param: unknown): Position | undefined {
  const pass = 'the id: of an event this stream sent';
  if (typeof header === 'string' && header !== '') {
    return decodeCursor(header, 'the Last-Event-ID header', pass);
  }
  return typeof param === 'string' ? decodeCursor(param, 'last_event_id', pass) : undefined;
}

/** Takes `?token=` as `X-Auth-Token` unless the request carries a token header already. */
async function tokenFromQuery(request: FastifyRequest): Promise<void> {
  const token = (request.query as { token?: unknown }).token;
  const h = request.headers;
  if (typeof token !== 'string' || h.authorization || h['x-auth-token']) return;
  h['x-auth-token'] = token;
}
