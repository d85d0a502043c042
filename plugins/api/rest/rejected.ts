/**
 * `GET /api/v1/rejected`: refused input kept for operators, newest first.
 */
import { Type } from 'typebox';
import type { StoredRejectedItem } from '../../../core/contracts/storage.ts';
import { formatRfc3339 } from '../../../core/time.ts';
import { decodeRejectedCursor, encodeRejectedCursor } from './cursor.ts';
import { MAX_LIMIT } from './record-query.ts';
import { ErrorSchema, type RouteDeps } from './route-deps.ts';

const RejectedItemSchema = Type.Object({
  id: Type.String(),
  raw: Type.String(),
  reason: Type.String(),
  source: Type.String(),
  line: Type.Union([Type.Integer(), Type.Null()]),
  column: Type.Union([Type.Integer(), Type.Null()]),
  received_at: Type.String({ description: 'ns since the epoch' }),
  rfc3339: Type.String(),
});

const RejectedPageSchema = Type.Object({
  items: Type.Array(RejectedItemSchema),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

const QuerySchema = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
    cursor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** Registers the rejected-store route. */
export function registerRejectedRoute({ app, ctx, authenticate }: RouteDeps): void {
  app.get('/api/v1/rejected', {
    schema: {
      querystring: QuerySchema,
      response: { 200: RejectedPageSchema, '4xx': ErrorSchema, '5xx': ErrorSchema },
    },
    onRequest: authenticate,
    handler: async (request) => {
      const limit = request.query.limit ?? 100;
      const before = request.query.cursor ? decodeRejectedCursor(request.query.cursor) : undefined;
      // One more than asked tells whether another page follows.
      const rows = await ctx.storage.listRejected(limit + 1, before);
      const page = rows.slice(0, limit);
      const next = rows.length > limit ? encodeRejectedCursor(page[page.length - 1]!.id) : null;
      return { items: page.map(toItem), next_cursor: next };
    },
  });
}

function toItem(r: StoredRejectedItem) {
  return {
    id: String(r.id),
    raw: r.raw,
    reason: r.reason,
    source: r.source,
    line: r.line ?? null,
    column: r.column ?? null,
    received_at: String(r.receivedAt),
    rfc3339: formatRfc3339(r.receivedAt),
  };
}
