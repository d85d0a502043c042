/**
 * Counts on DuckDB: the shared counts SQL in DuckDB's dialect. Columnar scans with integer
 * bucketing make this the fast backend for analytics.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { checkRowCount, sortCountRows } from '../../../core/analytics.ts';
import type { CountRow, CountsQuery } from '../../../core/contracts/storage.ts';
import { buildCountsSql, toCountRows, type CountsDialect } from '../../shared/sql/counts-sql.ts';
import { Params } from './params.ts';
import { buildFilters, jsonValueSql, TABLES } from './query-sql.ts';

const COLUMNS = {
  name: 'name',
  cluster: 'cluster',
  hostname: 'hostname',
  function: '"function"',
  loglevel: 'loglevel',
} as const;

/**
 * Answers a counts query on `conn`. Rejects with `CCES_ERR_QUERY_INVALID` (see the Storage
 * contract); database failures propagate for the storage to wrap.
 */
export async function countDuckDb(conn: DuckDBConnection, q: CountsQuery): Promise<CountRow[]> {
  const p = new Params();
  const d: CountsDialect = {
    int: (v) => p.int(v),
    column: (c) => COLUMNS[c],
    // A JSON pointer names any key once `~` and `/` are escaped (as in query-sql.ts).
    tag: (key) =>
      `json_extract_string(tags, ${p.text(`/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`)})`,
    json: (path) => jsonValueSql(path, p),
    bytewise: (expr) => expr,
    // DuckDB's `/` divides as DOUBLE; `//` keeps BIGINT.
    intDiv: (a, b) => `(${a}) // ${b}`,
  };
  const built = buildCountsSql(q, TABLES[q.kind], d, () => buildFilters(q, p));
  const rows = (await conn.runAndReadAll(built.sql, p.values, p.types)).getRows();
  checkRowCount(rows.length);
  return sortCountRows(toCountRows(rows, built));
}
