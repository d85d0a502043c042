/**
 * Counts on Postgres: the shared counts SQL in Postgres' dialect. Group values sort with the
 * "C" collation, bytewise as on the other backends.
 */
import type pg from 'pg';
import { checkRowCount, sortCountRows } from '../../../core/analytics.ts';
import type { CountRow, CountsQuery } from '../../../core/contracts/storage.ts';
import { buildCountsSql, toCountRows, type CountsDialect } from '../../shared/sql/counts-sql.ts';
import { ensureJsonFunction, jsonValueSql, usesJson } from './json-sql.ts';
import { buildFilters } from './query-sql.ts';
import type { Names } from './schema.ts';

/**
 * Answers a counts query with `client`. Rejects with `CCES_ERR_QUERY_INVALID` (see the
 * Storage contract); database failures propagate for the storage to wrap.
 */
export async function countPostgres(
  client: pg.ClientBase,
  n: Names,
  q: CountsQuery,
): Promise<CountRow[]> {
  const values: unknown[] = [];
  const param = (v: unknown) => `$${values.push(v)}`;
  // Placeholders are numbered, so the filters may take the first ones.
  const where = buildFilters(q, param);
  const d: CountsDialect = {
    int: (v) => `${param(BigInt(v).toString())}::bigint`,
    column: (c) => c,
    tag: (key) => `(tags ->> ${param(key)})`,
    json: (path) => jsonValueSql(path, param),
    bytewise: (expr) => `${expr} COLLATE "C"`,
  };
  const built = buildCountsSql(q, n.q(n.table[q.kind]), d, () => where);
  if (usesJson(built.sql)) await ensureJsonFunction(client);
  const res = await client.query({ text: built.sql, values, rowMode: 'array' });
  checkRowCount(res.rows.length);
  return sortCountRows(toCountRows(res.rows as unknown[][], built));
}
