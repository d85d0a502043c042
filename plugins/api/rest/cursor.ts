/**
 * Opaque page cursors: base64url of a keyset position. Clients must not build them; a
 * cursor that does not decode is a 400.
 */
import { createError } from '../../../core/errors.ts';

const NEXT_CURSOR = 'the next_cursor of a previous answer';

/** A position in (time, id) order. */
export interface Position {
  time: bigint;
  id: bigint;
}

/** Encodes a record position. */
export function encodeCursor(p: Position): string {
  return Buffer.from(`t${p.time}:${p.id}`).toString('base64url');
}

/**
 * Decodes a record position; throws `CCES_ERR_QUERY_INVALID` naming `source`, where the text
 * came from (a parameter or header), and saying what to `pass` instead.
 */
export function decodeCursor(text: string, source?: string, pass?: string): Position {
  const m = /^t(-?\d{1,20}):(\d{1,20})$/.exec(decoded(text));
  if (!m) throw invalid(source, pass);
  return { time: BigInt(m[1]!), id: BigInt(m[2]!) };
}

/** Encodes a position in the rejected store (newest first by id). */
export function encodeRejectedCursor(id: bigint): string {
  return Buffer.from(`r${id}`).toString('base64url');
}

/** Decodes a rejected-store position; throws `CCES_ERR_QUERY_INVALID`. */
export function decodeRejectedCursor(text: string): bigint {
  const m = /^r(\d{1,20})$/.exec(decoded(text));
  if (!m) throw invalid();
  return BigInt(m[1]!);
}

function decoded(text: string): string {
  return /^[A-Za-z0-9_-]{1,64}$/.test(text)
    ? Buffer.from(text, 'base64url').toString('latin1')
    : '';
}

function invalid(source = 'cursor', pass = NEXT_CURSOR) {
  return createError('CCES_ERR_QUERY_INVALID', `${source} is not valid; pass ${pass} unchanged`);
}
