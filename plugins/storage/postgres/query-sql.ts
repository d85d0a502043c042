/**
 * Builds the SQL of an event or log query with the answers of the SQLite plugin: the same
 * filters, ordering by (time, id), text matching case-insensitive for ASCII letters only.
 * Only fixed fragments and `$n` placeholders go into the text; every value is a parameter.
 */
import type { StorageQuery } from '../../../core/contracts/storage.ts';
import { jsonValueSql } from './json-sql.ts';
import { hasNul, NUL_STAND_INS, SELECT_COLUMNS } from './rows.ts';
import type { Names } from './schema.ts';

/** SQL text and its parameters. */
export interface BuiltQuery {
  text: string;
  values: unknown[];
}

/** The filters of a query, without its order and page size (analytics use them too). */
export type FilterQuery = Omit<StorageQuery, 'order' | 'limit'> & Partial<StorageQuery>;

/** The SELECT for `q`; it asks for one row more than `limit` to learn whether more follow. */
export function buildQuery(q: StorageQuery, n: Names): BuiltQuery {
  const values: unknown[] = [];
  const param = (v: unknown) => `$${values.push(v)}`;
  const where = buildFilters(q, param);
  const dir = q.order === 'desc' ? 'DESC' : 'ASC';
  const table = n.q(n.table[q.kind]);
  const text =
    `SELECT ${SELECT_COLUMNS} FROM ${table}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY time ${dir}, id ${dir} LIMIT ${param(q.limit + 1)}`;
  return { text, values };
}

/**
 * The WHERE conditions of `q` (to be joined with AND); `param` binds a value and returns
 * its placeholder. JSON filters need the session function of json-sql.ts.
 */
export function buildFilters(q: FilterQuery, param: (v: unknown) => string): string[] {
  const where: string[] = [];

  const lists: Array<[string, readonly string[] | undefined]> = [
    ['cluster', q.clusters],
    ['hostname', q.hostnames],
    ['name', q.names],
    ['type', q.types],
    ['type_id', q.typeIds],
    ['stype', q.stypes],
    ['stype_id', q.stypeIds],
    ['function', q.functions],
    ['loglevel', q.loglevels?.map((l) => l.toLowerCase())],
    ['job_id', q.jobId === undefined ? undefined : [q.jobId]],
  ];
  for (const [col, list] of lists) {
    if (!list) continue;
    // No stored value holds NUL (such records are rejected), and a parameter cannot.
    const usable = list.filter((v) => !hasNul(v));
    if (usable.length === 0) where.push('FALSE');
    else if (usable.length === 1) where.push(`${col} = ${param(usable[0])}`);
    else where.push(`${col} = ANY(${param(usable)}::text[])`);
  }
  for (const [key, value] of Object.entries(q.tags ?? {})) {
    if (hasNul(key) || hasNul(value)) where.push('FALSE');
    else where.push(`tags ->> ${param(key)} = ${param(value)}`);
  }
  if (q.text !== undefined && q.text !== '') where.push(textCondition(q.text, param));
  for (const f of q.json ?? []) where.push(`${jsonValueSql(f.path, param)} = ${param(f.value)}`);
  addRange(where, param, q);
  return where;
}

/** Escapes LIKE's wildcards and its escape character. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

// A payload stored with NUL replaced by its row's stand-in (`payload_nul`) matches a needle
// when the needle, its NULs replaced by the same stand-in, matches, unless the needle holds
// the stand-in itself (which the original payload then cannot contain). Needles without
// stand-in characters and without NUL, the usual case, need none of this.
function textCondition(needle: string, param: (v: unknown) => string): string {
  const plain = needle.replaceAll('\u0000', '');
  const guard = NUL_STAND_INS.some((c) => needle.includes(c))
    ? ` AND (payload_nul IS NULL OR strpos(${param(plain)}, payload_nul) = 0)`
    : '';
  if (!hasNul(needle)) {
    return `(payload ILIKE ${param(`%${escapeLike(needle)}%`)} ESCAPE '\\'${guard})`;
  }
  const parts = needle.split('\u0000').map(escapeLike);
  const pattern = `'%' || array_to_string(${param(parts)}::text[], payload_nul) || '%'`;
  return `(payload_nul IS NOT NULL AND payload ILIKE ${pattern} ESCAPE '\\'${guard})`;
}

function addRange(where: string[], param: (v: unknown) => string, q: FilterQuery): void {
  if (q.from !== undefined) where.push(`time >= ${param(q.from)}`);
  if (q.to !== undefined) where.push(`time < ${param(q.to)}`);
  if (q.after) {
    // The plain bound on time lets an index seek; the row comparison settles ties by id.
    const cmp = q.order === 'desc' ? '<' : '>';
    const t = param(q.after.time);
    where.push(`time ${cmp}= ${t} AND (time, id) ${cmp} (${t}, ${param(q.after.id)})`);
  }
}
