/**
 * The rejected store: refused input kept for operators, newest first, bounded by the host.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RejectedItem, StoredRejectedItem } from '../../../core/contracts/storage.ts';
import { appendRows, inTransaction } from './transaction.ts';
import { Params } from './params.ts';

/**
 * Appends `items` with ids from `nextId` in one transaction; returns the id to use next.
 * Throws the driver's error after rolling back.
 */
export async function insertRejected(
  conn: DuckDBConnection,
  items: readonly RejectedItem[],
  nextId: bigint,
): Promise<bigint> {
  let id = nextId;
  await inTransaction(conn, () =>
    appendRows(conn, 'rejected', (a) => {
      for (const item of items) {
        a.appendBigInt(id++);
        a.appendVarchar(item.raw);
        a.appendVarchar(item.reason);
        a.appendVarchar(item.source);
        if (item.line === undefined) a.appendNull();
        else a.appendInteger(item.line);
        if (item.column === undefined) a.appendNull();
        else a.appendInteger(item.column);
        a.appendBigInt(item.receivedAt);
        a.endRow();
      }
    }),
  );
  return id;
}

/** Newest first, at most `limit`, older than `beforeId` when given. */
export async function selectRejected(
  conn: DuckDBConnection,
  limit: number,
  beforeId?: bigint,
): Promise<StoredRejectedItem[]> {
  const p = new Params();
  const where = beforeId === undefined ? '' : ` WHERE id < ${p.int(beforeId)}`;
  const sql =
    'SELECT id, raw, reason, source, line, "column", received_at FROM rejected' +
    `${where} ORDER BY id DESC LIMIT ${p.int(limit)}`;
  const rows = (await conn.runAndReadAll(sql, p.values, p.types)).getRows();
  return rows.map(([id, raw, reason, source, line, column, receivedAt]) => {
    const item: StoredRejectedItem = {
      id: id as bigint,
      raw: raw as string,
      reason: reason as string,
      source: source as string,
      receivedAt: receivedAt as bigint,
    };
    if (line !== null) item.line = line as number;
    if (column !== null) item.column = column as number;
    return item;
  });
}

/** Deletes items beyond the newest `keep` or received before `before`; returns how many. */
export async function deleteRejected(
  conn: DuckDBConnection,
  keep: number,
  before: bigint,
): Promise<number> {
  const p = new Params();
  const sql =
    `DELETE FROM rejected WHERE received_at < ${p.int(before)}` +
    ` OR id NOT IN (SELECT id FROM rejected ORDER BY id DESC LIMIT ${p.int(keep)})`;
  return (await conn.run(sql, p.values, p.types)).rowsChanged;
}
