/**
 * `GET /api/v1/events` and `GET /api/v1/logs`: filtered, ordered, paged reads, answered as
 * JSON or streamed as NDJSON, CSV or line protocol.
 */
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { RecordKind, StoredRecord } from '../../../core/record.ts';
import { encodeCursor } from './cursor.ts';
import { csvRow, CSV_HEADER, itemJson, lpLine, RecordItemSchema } from './record-format.ts';
import { RecordQuerySchema, toStorageQuery } from './record-query.ts';
import { ErrorSchema, type RouteDeps } from './route-deps.ts';

/** A JSON answer: one page and the cursor of the next one. */
export const RecordPageSchema = Type.Object({
  items: Type.Array(RecordItemSchema),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

const STREAMED = {
  ndjson: {
    type: 'application/x-ndjson; charset=utf-8',
    line: (r: StoredRecord) => `${itemJson(r)}\n`,
  },
  csv: { type: 'text/csv; charset=utf-8', line: csvRow },
  lp: { type: 'text/plain; charset=utf-8', line: lpLine },
};

/** Registers the event and log routes. */
export function registerRecordRoutes({ app, ctx, authenticate }: RouteDeps): void {
  for (const [path, kind] of [
    ['/api/v1/events', 'event'],
    ['/api/v1/logs', 'log'],
  ] as const) {
    app.get(path, {
      schema: {
        querystring: RecordQuerySchema,
        response: { 200: RecordPageSchema, '4xx': ErrorSchema, '5xx': ErrorSchema },
      },
      onRequest: authenticate,
      handler: async (request, typed) => {
        // Answers are built as text here; the response schema documents them.
        const reply = typed as FastifyReply;
        const q = request.query;
        const page = await ctx.storage.query(toStorageQuery(kind as RecordKind, q));
        const next = page.next ? encodeCursor(page.next) : null;
        const format = q.format ?? 'json';

        if (format === 'json') {
          const items = page.records.map(itemJson).join(',');
          const body = `{"items":[${items}],"next_cursor":${next === null ? 'null' : `"${next}"`}}`;
          return reply.type('application/json; charset=utf-8').send(body);
        }
        const out = STREAMED[format];
        if (next !== null) reply.header('x-next-cursor', next);
        reply.type(out.type);
        return reply.send(Readable.from(lines(page.records, out.line, format === 'csv')));
      },
    });
  }
}

// Chunks of a few hundred lines keep writes few without holding the whole answer twice.
function* lines(records: StoredRecord[], line: (r: StoredRecord) => string, header: boolean) {
  let chunk = header ? CSV_HEADER : '';
  for (let i = 0; i < records.length; i++) {
    chunk += line(records[i]!);
    if (i % 256 === 255) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk !== '') yield chunk;
}
