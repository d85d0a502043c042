/**
 * Builds the SQL of an event or log query. Only fixed fragments and `?` placeholders go into
 * the text; every value the caller gave is a bound parameter.
 */
import type { StorageQuery } from '../../../core/contracts/storage.ts';
import { checkJsonPath } from '../../../core/analytics.ts';
import { Params } from './params.ts';
import { SELECT_COLUMNS } from './rows.ts';

/** SQL text and its parameters. */
export interface BuiltQuery {
  sql: string;
  params: Params;
}

/** The table of each kind; the only identifiers that ever enter query text. */
export const TABLES = { event: 'events', log: 'logs' } as const;

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';

/** The filters of a query, without its order and page size (analytics use them too). */
export type FilterQuery = Omit<StorageQuery, 'order' | 'limit'> & Partial<StorageQuery>;

/** The SELECT for `q`; it asks for one row more than `limit` to learn whether more follow. */
export function buildQuery(q: StorageQuery): BuiltQuery {
  const p = new Params();
  const where = buildFilters(q, p);
  const dir = q.order === 'desc' ? 'DESC' : 'ASC';
  const sql =
    `SELECT ${SELECT_COLUMNS} FROM ${TABLES[q.kind]}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY time ${dir}, id ${dir} LIMIT ${p.int(q.limit + 1)}`;
  return { sql, params: p };
}

/**
 * The text of the scalar at a JSON path of the payload, or NULL for JSON null, a missing
 * path or a payload that is not JSON (json_extract_string would throw on it).
 */
export function jsonValueSql(path: string, p: Params): string {
  const at = p.text(checkJsonPath(path));
  return `CASE WHEN json_valid(payload) THEN json_extract_string(payload, ${at}) END`;
}

/** The WHERE conditions of `q` (to be joined with AND); parameters go to `p` in order. */
export function buildFilters(q: FilterQuery, p: Params): string[] {
  const where: string[] = [];
  addIn(where, p, 'cluster', q.clusters);
  addIn(where, p, 'hostname', q.hostnames);
  addIn(where, p, 'name', q.names);
  addIn(where, p, 'type', q.types);
  addIn(where, p, 'type_id', q.typeIds);
  addIn(where, p, 'stype', q.stypes);
  addIn(where, p, 'stype_id', q.stypeIds);
  addIn(where, p, '"function"', q.functions);
  const levels = q.loglevels?.map((l) => l.toLowerCase());
  addIn(where, p, 'loglevel', levels);
  if (q.jobId !== undefined) where.push(`job_id = ${p.text(q.jobId)}`);

  for (const [key, value] of Object.entries(q.tags ?? {})) {
    // A JSON pointer names any key exactly once `~` and `/` are escaped; a JSONPath would
    // need quoting rules for dots, quotes and brackets.
    const pointer = `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    where.push(`json_extract_string(tags, ${p.text(pointer)}) = ${p.text(value)}`);
  }
  if (q.text !== undefined && q.text !== '') addText(where, p, q.text);
  for (const f of q.json ?? []) where.push(`${jsonValueSql(f.path, p)} = ${p.text(f.value)}`);
  addRange(where, p, q);
  return where;
}

function addIn(where: string[], p: Params, col: string, values?: readonly string[]): void {
  if (!values) return;
  if (values.length === 0) where.push('false');
  else if (values.length === 1) where.push(`${col} = ${p.text(values[0]!)}`);
  else where.push(`${col} IN (${values.map((v) => p.text(v)).join(', ')})`);
}

// The contract folds ASCII letters only, as SQLite's LIKE does; DuckDB's lower() and ILIKE
// fold every Unicode letter ('É' ILIKE 'é' holds). A match under lower() is necessary, and
// cheap to test; it is exact for an ASCII needle in an ASCII payload (strlen = length), and
// anything else is decided by folding A-Z alone with translate(), which is slow. CASE, unlike
// AND and OR, evaluates its branches only on the rows that reach them.
function addText(where: string[], p: Params, text: string): void {
  const folded = text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  // Placeholders are positional: each p.text() call must follow the text order.
  const exact = () => `contains(translate(payload, '${UPPER}', '${LOWER}'), ${p.text(folded)})`;
  if (/^[\x00-\x7f]*$/.test(text)) {
    const cheap = `CASE WHEN NOT contains(lower(payload), ${p.text(folded)}) THEN false`;
    where.push(`${cheap} WHEN strlen(payload) = length(payload) THEN true ELSE ${exact()} END`);
  } else {
    const cheap = `CASE WHEN NOT contains(lower(payload), lower(${p.text(text)})) THEN false`;
    where.push(`${cheap} ELSE ${exact()} END`);
  }
}

function addRange(where: string[], p: Params, q: FilterQuery): void {
  if (q.from !== undefined) where.push(`time >= ${p.int(q.from)}`);
  if (q.to !== undefined) where.push(`time < ${p.int(q.to)}`);
  if (q.after) {
    // The plain bound on time prunes row groups by their min/max; the OR settles ties by id.
    const cmp = q.order === 'desc' ? '<' : '>';
    const t = q.after.time;
    where.push(
      `time ${cmp}= ${p.int(t)} AND (time ${cmp} ${p.int(t)} OR id ${cmp} ${p.int(q.after.id)})`,
    );
  }
}
