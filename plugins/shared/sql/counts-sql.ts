/**
 * The SQL of a counts query, shared by the SQL backends: each gives its dialect (how it
 * binds a value and how it reads a column, a tag or a JSON value), the builder gives one
 * query shape, so every backend buckets, groups and picks its top groups alike.
 */
import { checkCountsQuery } from '../../../core/analytics.ts';
import {
  MAX_COUNT_ROWS,
  type CountRow,
  type CountsGroupBy,
  type CountsQuery,
} from '../../../core/contracts/storage.ts';

/** The columns a count may group by. */
export type GroupColumn = Extract<CountsGroupBy, string>;

/** How one backend writes the parts of a counts query. */
export interface CountsDialect {
  /** Binds an integer; returns its placeholder. */
  int(v: bigint | number): string;
  /** The expression of a column. */
  column(c: GroupColumn): string;
  /** The value of tag `key` as text (the key is bound). */
  tag(key: string): string;
  /** The text of the scalar at a checked JSON path of the payload (the path is bound). */
  json(path: string): string;
  /** `expr` made to sort bytewise, such as with a "C" collation. */
  bytewise(expr: string): string;
  /**
   * Integer division `a / b` of a non-negative BIGINT by a positive one. A backend that
   * gives it groups a range with a start by bucket index from that start (a small integer,
   * one subtraction and one division a row) instead of by bucket start (three modulo
   * operations a row and wide keys); columnar engines group the index about twice as fast.
   */
  intDiv?(a: string, b: string): string;
}

/** A built counts query; `where` is called once the SELECT list is written. */
export interface CountsSql {
  sql: string;
  /** Whether each row starts with a bucket start (or, with `origin`, a bucket index). */
  bucketed: boolean;
  /** Bucket start of index 0 when rows hold bucket indexes; the bucket width is `bucket`. */
  origin?: bigint;
  bucket?: bigint;
  groups: number;
}

/**
 * Builds the counts SQL over `table`. `where` returns the filter conditions; it runs after
 * the SELECT list and before the top and row limits, so positional placeholders line up.
 * Throws `CCES_ERR_QUERY_INVALID` for a query {@link checkCountsQuery} refuses.
 */
export function buildCountsSql(
  q: CountsQuery,
  table: string,
  d: CountsDialect,
  where: () => string[],
): CountsSql {
  checkCountsQuery(q);
  const select: string[] = [];
  let origin: bigint | undefined;
  if (q.bucket !== undefined && q.from !== undefined && d.intDiv) {
    // Every row has time >= from >= origin, so the division floors.
    origin = floorTo(q.from, q.bucket);
    select.push(d.intDiv(`time - ${d.int(origin)}`, d.int(q.bucket)));
  } else if (q.bucket !== undefined) {
    // A floor for negative times too: SQL's % keeps the dividend's sign.
    const b = q.bucket;
    select.push(`time - ((time % ${d.int(b)}) + ${d.int(b)}) % ${d.int(b)}`);
  }
  q.groupBy.forEach((g) => select.push(groupExpr(g, d)));
  const names = select.map((expr, i) => `${expr} AS c${i}`);
  const conds = where();
  const keys = select.map((_, i) => String(i + 1)).join(', ');
  let sql =
    `WITH c AS (SELECT ${[...names, 'count(*) AS n'].join(', ')} FROM ${table}` +
    (conds.length ? ` WHERE ${conds.join(' AND ')}` : '') +
    (keys ? ` GROUP BY ${keys}` : '') +
    ')';

  const first = q.bucket === undefined ? 0 : 1;
  const groupCols = q.groupBy.map((_, i) => `c${first + i}`);
  if (q.top !== undefined && groupCols.length > 0) {
    const order = groupCols.map((c) => `${d.bytewise(c)} NULLS LAST`).join(', ');
    sql +=
      `, t AS (SELECT ${groupCols.join(', ')} FROM c GROUP BY ${groupCols.join(', ')}` +
      ` ORDER BY sum(n) DESC, ${order} LIMIT ${d.int(q.top)})` +
      ` SELECT c.* FROM c JOIN t ON ` +
      groupCols.map((c) => `c.${c} IS NOT DISTINCT FROM t.${c}`).join(' AND ');
  } else {
    sql += ' SELECT c.* FROM c';
  }
  sql += ` LIMIT ${d.int(MAX_COUNT_ROWS + 1)}`;
  const built: CountsSql = { sql, bucketed: first === 1, groups: groupCols.length };
  if (origin !== undefined) Object.assign(built, { origin, bucket: q.bucket });
  return built;
}

/** Turns result rows (bucket?, groups..., count) into count rows, dropping empty counts. */
export function toCountRows(rows: readonly (readonly unknown[])[], built: CountsSql): CountRow[] {
  const out: CountRow[] = [];
  for (const row of rows) {
    const count = Number(row[row.length - 1]);
    if (count === 0) continue;
    const first = built.bucketed ? 1 : 0;
    const group = row.slice(first, first + built.groups).map((v) => (v == null ? null : String(v)));
    const r: CountRow = { group, count };
    if (built.bucketed) {
      const v = BigInt(row[0] as bigint | number | string);
      r.start = built.origin === undefined ? v : built.origin + v * built.bucket!;
    }
    out.push(r);
  }
  return out;
}

// Floor of `t` to a multiple of `b`, negative `t` included (BigInt division truncates).
function floorTo(t: bigint, b: bigint): bigint {
  const r = t % b;
  return t - (r < 0n ? r + b : r);
}

function groupExpr(g: CountsGroupBy, d: CountsDialect): string {
  if (typeof g === 'string') return d.column(g);
  return 'tag' in g ? d.tag(g.tag) : d.json(g.json);
}
