/**
 * Counts on SQLite: the shared counts SQL in SQLite's dialect, run on the storage's
 * connection (reads see every committed batch).
 */
import type Database from 'better-sqlite3';
import { checkRowCount, sortCountRows } from '../../../core/analytics.ts';
import type { CountRow, CountsQuery } from '../../../core/contracts/storage.ts';
import { createError, hasCode } from '../../../core/errors.ts';
import { buildCountsSql, toCountRows, type CountsDialect } from '../../shared/sql/counts-sql.ts';
import { jsonValueSql } from './json-sql.ts';
import { buildFilters, TABLES } from './query-sql.ts';

const COLUMNS = {
  name: 'name',
  cluster: 'cluster',
  hostname: 'hostname',
  function: 'function',
  loglevel: 'loglevel',
} as const;

/**
 * Answers a counts query on `db`. Rejects with `CCES_ERR_QUERY_INVALID` (see the Storage
 * contract) or `CCES_ERR_STORAGE_QUERY`.
 */
export function countSqlite(db: Database.Database, q: CountsQuery): CountRow[] {
  const params: unknown[] = [];
  const d: CountsDialect = {
    int: (v) => (params.push(BigInt(v)), '?'),
    column: (c) => COLUMNS[c],
    tag: (key) => (params.push(`$.${JSON.stringify(key)}`), 'json_extract(tags, ?)'),
    json: (path) => jsonValueSql(path, params),
    bytewise: (expr) => expr,
  };
  const built = buildCountsSql(q, TABLES[q.kind], d, () => {
    const f = buildFilters(q);
    params.push(...f.params);
    return f.where;
  });

  let rows: unknown[][];
  try {
    rows = db
      .prepare(built.sql)
      .raw(true)
      .safeIntegers(true)
      .all(...params) as unknown[][];
  } catch (err) {
    if (hasCode(err, 'CCES_ERR_QUERY_INVALID')) throw err;
    throw createError('CCES_ERR_STORAGE_QUERY', 'the SQLite counts query failed', {}, err);
  }
  checkRowCount(rows.length);
  return sortCountRows(toCountRows(rows, built));
}
