/**
 * The answer to a write: 204 when nothing was refused, else 400 listing the refused
 * entries (the good ones, if any, are stored all the same).
 */
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { IngestResult } from '../../../core/contracts/receiver.ts';

/** `cces`: the store's JSON bodies; `influx`: `{"error": ...}` as InfluxDB 1.x answers. */
export type WriteDialect = 'cces' | 'influx';

/** At most this many refused entries are listed in one answer; `rejected` has the total. */
export const MAX_LISTED_ERRORS = 1000;

const MAX_INFLUX_REASONS = 10;

/** Body of a 400 answer to a partly refused write. */
export const WriteRejectedSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  stored: Type.Optional(Type.Integer()),
  duplicates: Type.Optional(Type.Integer()),
  skipped: Type.Optional(Type.Integer()),
  rejected: Type.Optional(Type.Integer()),
  errors: Type.Optional(
    Type.Array(
      Type.Object({
        line: Type.Integer(),
        column: Type.Optional(Type.Integer()),
        reason: Type.String(),
      }),
    ),
  ),
});

/** Body of every error answer of InfluxDB's `/write`, as InfluxDB 1.x sends it. */
export const InfluxErrorSchema = Type.Object({
  error: Type.String(),
  code: Type.String(),
});

/** Sends the answer to an ingest result. */
export function ingestReply(reply: FastifyReply, result: IngestResult, dialect: WriteDialect) {
  const rejected = result.rejected;
  if (rejected.length === 0) return reply.code(204).send();

  if (dialect === 'influx') {
    const shown = rejected.slice(0, MAX_INFLUX_REASONS).map((e) => `line ${e.line}: ${e.reason}`);
    const error = `partial write: ${shown.join('; ')} dropped=${rejected.length}`;
    return reply.code(400).send({ error, code: 'CCES_ERR_INGEST_REJECTED' });
  }

  const errors = rejected
    .slice(0, MAX_LISTED_ERRORS)
    .map((e) =>
      e.column === undefined
        ? { line: e.line, reason: e.reason }
        : { line: e.line, column: e.column, reason: e.reason },
    );
  return reply.code(400).send({
    code: 'CCES_ERR_INGEST_REJECTED',
    message: summary(result),
    stored: result.stored,
    duplicates: result.duplicates,
    skipped: result.skipped,
    rejected: rejected.length,
    errors,
  });
}

/** What became of the entries, by count: `2 of 5 entries refused; 3 stored`. */
function summary(result: IngestResult): string {
  const refused = result.rejected.length;
  const total = refused + result.stored + result.duplicates + result.skipped;
  const parts = [result.stored === 0 ? 'none stored' : `${result.stored} stored`];
  if (result.duplicates > 0) parts.push(`${result.duplicates} already stored`);
  if (result.skipped > 0) parts.push(`${result.skipped} skipped`);
  return `${refused} of ${total} ${total === 1 ? 'entry' : 'entries'} refused; ${parts.join(', ')}`;
}
