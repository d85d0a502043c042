/**
 * `GET /api/v1/export?kind=event|log&from=&to=&format=parquet|csv`: a time range as a file,
 * written by the storage's own writer (DuckDB's COPY) into a temp file the storage creates,
 * streamed, then deleted. Other backends answer 501 `CCES_ERR_STORAGE_UNSUPPORTED`.
 */
import { createReadStream, statSync } from 'node:fs';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { createError } from '../../../core/errors.ts';
import { parseTime, refuseInvertedRange } from './record-query.ts';
import { ErrorSchema, type RouteDeps } from './route-deps.ts';

const ExportQuerySchema = Type.Object(
  {
    kind: Type.Optional(Type.Enum(['event', 'log'], { description: 'default event' })),
    from: Type.Optional(Type.String({ description: 'inclusive: Unix time or RFC 3339' })),
    to: Type.Optional(Type.String({ description: 'exclusive: Unix time or RFC 3339' })),
    precision: Type.Optional(Type.Enum(['s', 'ms', 'us', 'ns'])),
    format: Type.Optional(Type.Enum(['parquet', 'csv'], { description: 'default parquet' })),
  },
  { additionalProperties: false },
);

const TYPES = { parquet: 'application/vnd.apache.parquet', csv: 'text/csv; charset=utf-8' };

/** Registers the export route. */
export function registerExportRoute({ app, ctx, authenticate }: RouteDeps): void {
  app.get('/api/v1/export', {
    schema: {
      querystring: ExportQuerySchema,
      response: { '4xx': ErrorSchema, '5xx': ErrorSchema },
    },
    onRequest: authenticate,
    handler: async (request, typed) => {
      const reply = typed as FastifyReply;
      const storage = ctx.storage;
      if (!storage.exportRange) {
        throw createError(
          'CCES_ERR_STORAGE_UNSUPPORTED',
          'export needs the duckdb storage; use GET /api/v1/events?format=csv on this backend',
        );
      }
      const q = request.query;
      const kind = q.kind ?? 'event';
      const format = q.format ?? 'parquet';
      const precision = q.precision ?? 's';
      const from = q.from === undefined ? undefined : parseTime(q.from, precision, 'from');
      const to = q.to === undefined ? undefined : parseTime(q.to, precision, 'to');
      refuseInvertedRange(from, to, q.from, q.to);
      const file = await storage.exportRange({ kind, format, from, to });
      // The length lets clients (cc-event-export) show a download progress.
      let size: number;
      try {
        size = statSync(file.path).size;
      } catch (err) {
        await file.remove();
        throw err;
      }
      const stream = createReadStream(file.path);
      // The file goes once the answer is sent or the client left.
      stream.once('close', () => void file.remove());
      reply.header('content-disposition', `attachment; filename="${kind}s.${format}"`);
      reply.header('content-length', size);
      return reply.type(TYPES[format]).send(stream);
    },
  });
}
