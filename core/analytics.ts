/**
 * What every backend's counts share: checking a query before any SQL is built, and the one
 * order of the answer's rows, so backends answer alike to the byte.
 */
import {
  BUCKET_RANGE,
  JSON_PATH_PATTERN,
  MAX_COUNT_ROWS,
  MAX_JSON_INDEX,
  type CountRow,
  type CountsQuery,
  type JsonFilter,
} from './contracts/storage.ts';
import { createError } from './errors.ts';

const GROUP_COLUMNS = new Set(['name', 'cluster', 'hostname', 'function', 'loglevel']);

/** Most group keys one counts query may name. */
export const MAX_GROUP_KEYS = 8;

/**
 * Throws `CCES_ERR_QUERY_INVALID` unless `path` matches {@link JSON_PATH_PATTERN} with no index
 * above {@link MAX_JSON_INDEX}. The message starts with `param`, the query parameter that
 * gave the path, when known.
 */
export function checkJsonPath(path: string, param?: string): string {
  const fault = jsonPathFault(path);
  if (fault === undefined) return path;
  const where = param === undefined ? '' : `${param.slice(0, 80)}: `;
  throw createError('CCES_ERR_QUERY_INVALID', `${where}JSON path "${path.slice(0, 80)}" ${fault}`, {
    path: path.slice(0, 256),
    ...(param === undefined ? {} : { param: param.slice(0, 256) }),
  });
}

function jsonPathFault(path: string): string | undefined {
  if (path.length > 256 || !JSON_PATH_PATTERN.test(path)) {
    return 'is not of the form $.key, $.key.sub or $.list[0] (an index without leading zeros)';
  }
  for (const [, index] of path.matchAll(/\[(\d+)\]/g)) {
    if (Number(index) > MAX_JSON_INDEX) return `has an array index above ${MAX_JSON_INDEX}`;
  }
  return undefined;
}

/** Checks the JSON filters of a query; throws `CCES_ERR_QUERY_INVALID`. */
export function checkJsonFilters(filters: readonly JsonFilter[] | undefined): void {
  for (const f of filters ?? []) checkJsonPath(f.path);
}

/** Checks a counts query; throws `CCES_ERR_QUERY_INVALID` naming the bad member. */
export function checkCountsQuery(q: CountsQuery): void {
  if (q.groupBy.length > MAX_GROUP_KEYS) {
    throw invalid(`at most ${MAX_GROUP_KEYS} group keys, found ${q.groupBy.length}`);
  }
  for (const g of q.groupBy) {
    if (typeof g === 'object' && 'json' in g) checkJsonPath(g.json);
    else if (typeof g === 'string' && !GROUP_COLUMNS.has(g)) throw invalid(`cannot group by ${g}`);
  }
  checkJsonFilters(q.json);
  const b = q.bucket;
  if (b !== undefined && (b < BUCKET_RANGE.min || b > BUCKET_RANGE.max)) {
    throw invalid(`bucket must be 1 minute to 1 day, found ${b} ns`);
  }
  if (q.top !== undefined && (!Number.isInteger(q.top) || q.top < 1 || q.top > MAX_COUNT_ROWS)) {
    throw invalid(`top must be an integer from 1 to ${MAX_COUNT_ROWS}`);
  }
}

/**
 * Throws `CCES_ERR_QUERY_INVALID` when a backend found more rows than an answer may hold;
 * backends ask for one row more than {@link MAX_COUNT_ROWS} to learn it.
 */
export function checkRowCount(n: number): void {
  if (n <= MAX_COUNT_ROWS) return;
  throw invalid(
    `the answer would hold more than ${MAX_COUNT_ROWS} rows; narrow the time range, ` +
      'use a larger bucket, fewer group keys or top',
  );
}

/** Sorts rows in the contract's order: start, count descending, then group values. */
export function sortCountRows(rows: CountRow[]): CountRow[] {
  return rows.sort((a, b) => {
    const s = (a.start ?? 0n) - (b.start ?? 0n);
    if (s !== 0n) return s < 0n ? -1 : 1;
    if (a.count !== b.count) return b.count - a.count;
    return compareGroups(a.group, b.group);
  });
}

/** Compares group values bytewise (UTF-8), missing values last. */
export function compareGroups(a: readonly (string | null)[], b: readonly (string | null)[]) {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return Buffer.compare(Buffer.from(x), Buffer.from(y));
  }
  return 0;
}

function invalid(message: string) {
  return createError('CCES_ERR_QUERY_INVALID', message);
}
