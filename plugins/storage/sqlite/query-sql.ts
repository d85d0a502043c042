/**
 * Builds the SQL of an event or log query. Only fixed fragments and `?` placeholders go into
 * the text; every value the caller gave is a bound parameter.
 */
import type { StorageQuery } from '../../../core/contracts/storage.ts';
import { addJsonFilters } from './json-sql.ts';
import { SELECT_COLUMNS } from './rows.ts';

/** SQL text and its parameters. */
export interface BuiltQuery {
  sql: string;
  params: unknown[];
}

/** The table of each kind; the only identifiers that ever enter query text. */
export const TABLES = { event: 'events', log: 'logs' } as const;

// Columns with an index, most selective first. A leading `+` keeps SQLite from using the
// index of a less selective column when a more selective one is filtered too, so a
// cluster-and-host query walks the host index even without ANALYZE statistics.
const INDEXED = ['job_id', 'hostname', 'name', 'cluster'] as const;

/** The filters of a query, without its order and page size (analytics use them too). */
export type FilterQuery = Omit<StorageQuery, 'order' | 'limit'> & Partial<StorageQuery>;

/** The SELECT for `q`; it asks for one row more than `limit` to learn whether more follow. */
export function buildQuery(q: StorageQuery): BuiltQuery {
  const { where, params } = buildFilters(q);
  const dir = q.order === 'desc' ? 'DESC' : 'ASC';
  const sql =
    `SELECT ${SELECT_COLUMNS} FROM ${TABLES[q.kind]}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY time ${dir}, id ${dir} LIMIT ?`;
  params.push(q.limit + 1);
  return { sql, params };
}

/** The WHERE conditions of `q` (to be joined with AND) and their parameters. */
export function buildFilters(q: FilterQuery): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const indexed: Partial<Record<(typeof INDEXED)[number], unknown[]>> = {
    job_id: q.jobId === undefined ? undefined : [q.jobId],
    hostname: q.hostnames,
    name: q.names,
    cluster: q.clusters,
  };
  let leading: string | undefined;
  for (const col of INDEXED) {
    const values = indexed[col];
    if (!values) continue;
    addIn(where, params, leading ? `+${col}` : col, values);
    leading ??= col;
  }

  addIn(where, params, 'type', q.types);
  addIn(where, params, 'type_id', q.typeIds);
  addIn(where, params, 'stype', q.stypes);
  addIn(where, params, 'stype_id', q.stypeIds);
  addIn(where, params, 'function', q.functions);
  addIn(
    where,
    params,
    'loglevel',
    q.loglevels?.map((l) => l.toLowerCase()),
  );
  for (const [key, value] of Object.entries(q.tags ?? {})) {
    // A JSON-string label is a valid SQLite JSON path for any key, quotes and NULs included.
    where.push('json_extract(tags, ?) = ?');
    params.push(`$.${JSON.stringify(key)}`, value);
  }
  if (q.text !== undefined && q.text !== '') addText(where, params, q.text);
  addJsonFilters(where, params, q.json);
  addRange(where, params, q);
  return { where, params };
}

function addIn(where: string[], params: unknown[], col: string, values?: readonly unknown[]) {
  if (!values) return;
  if (values.length === 0) {
    where.push('0');
    return;
  }
  where.push(
    values.length === 1 ? `${col} = ?` : `${col} IN (${values.map(() => '?').join(', ')})`,
  );
  params.push(...values);
}

// LIKE stops at the first NUL of the payload and of the pattern: it missed text after a NUL,
// and a needle holding one matched too much. instr() compares every byte. lower() folds ASCII
// letters only (better-sqlite3 is built without ICU), as the contract folds; a needle without
// letters skips it. A full scan takes up to 3 times as long as with LIKE.
function addText(where: string[], params: unknown[], text: string): void {
  const folded = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  where.push(/[a-z]/.test(folded) ? 'instr(lower(payload), ?) > 0' : 'instr(payload, ?) > 0');
  params.push(folded);
}

function addRange(where: string[], params: unknown[], q: FilterQuery): void {
  if (q.from !== undefined) {
    where.push('time >= ?');
    params.push(q.from);
  }
  if (q.to !== undefined) {
    where.push('time < ?');
    params.push(q.to);
  }
  if (q.after) {
    // The plain bound on time lets the index seek; the OR settles ties on time by id.
    const cmp = q.order === 'desc' ? '<' : '>';
    where.push(`time ${cmp}= ? AND (time ${cmp} ? OR id ${cmp} ?)`);
    params.push(q.after.time, q.after.time, q.after.id);
  }
}
