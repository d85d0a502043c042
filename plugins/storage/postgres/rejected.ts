/**
 * The rejected store. `raw` is kept as bytes (bytea): refused input may hold NUL, which
 * Postgres text cannot, and must come back exactly.
 */
import type pg from 'pg';
import type { RejectedItem, StoredRejectedItem } from '../../../core/contracts/storage.ts';
import type { Names } from './schema.ts';

/** Inserts the items in one statement. */
export async function insertRejected(
  c: pg.ClientBase,
  n: Names,
  items: readonly RejectedItem[],
): Promise<void> {
  await c.query(
    `INSERT INTO ${n.rejected} (raw, reason, source, line, "column", received_at)
     SELECT decode(r, 'base64'), reason, source, line, col, at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::bigint[])
         AS u(r, reason, source, line, col, at)`,
    [
      items.map((it) => Buffer.from(it.raw, 'utf8').toString('base64')),
      items.map((it) => printable(it.reason)),
      items.map((it) => printable(it.source)),
      items.map((it) => it.line ?? null),
      items.map((it) => it.column ?? null),
      items.map((it) => it.receivedAt),
    ],
  );
}

type RejectedRow = [bigint, Buffer, string, string, number | null, number | null, bigint];

/** Newest first, at most `limit`, older than `beforeId` when given. */
export async function listRejected(
  c: pg.ClientBase,
  n: Names,
  limit: number,
  beforeId?: bigint,
): Promise<StoredRejectedItem[]> {
  const res = await c.query<RejectedRow>({
    text:
      `SELECT id, raw, reason, source, line, "column", received_at FROM ${n.rejected}` +
      ' WHERE id < $1 ORDER BY id DESC LIMIT $2',
    values: [beforeId ?? 2n ** 63n - 1n, limit],
    rowMode: 'array',
  });
  return res.rows.map(([id, raw, reason, source, line, column, receivedAt]) => {
    const item: StoredRejectedItem = { id, raw: raw.toString('utf8'), reason, source, receivedAt };
    if (line !== null) item.line = line;
    if (column !== null) item.column = column;
    return item;
  });
}

/** Deletes items beyond the newest `keep` or received before `before`. */
export async function pruneRejected(
  c: pg.ClientBase,
  n: Names,
  keep: number,
  before: bigint,
): Promise<number> {
  const res = await c.query(
    `DELETE FROM ${n.rejected} WHERE received_at < $1
        OR id <= (SELECT id FROM ${n.rejected} ORDER BY id DESC OFFSET $2 LIMIT 1)`,
    [before, keep],
  );
  return res.rowCount ?? 0;
}

// Reasons and sources are short words of our own making; NUL cannot be stored in text, so
// it shows as U+FFFD should one ever reach here.
function printable(text: string): string {
  return text.replaceAll('\u0000', '\uFFFD');
}
