/**
 * The meaning of a {@link StorageQuery} over records held in memory. Storages that keep
 * records in files or in memory answer queries with it; SQL backends translate the same
 * rules into SQL, and the shared storage suite checks both against one set of cases.
 */
import type { QueryPage, StorageQuery } from './contracts/storage.ts';
import type { StoredRecord } from './record.ts';

/** Tag-backed list filters of a query and the tag each one reads. */
const TAG_FILTERS = [
  ['hostnames', 'hostname'],
  ['types', 'type'],
  ['typeIds', 'type-id'],
  ['stypes', 'stype'],
  ['stypeIds', 'stype-id'],
  ['functions', 'function'],
] as const;

/** Lower-cases ASCII letters only, as the text filter compares (other letters stay exact). */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/**
 * Whether a record passes every filter of `q` (kind, lists, tags, text, jobId, time range).
 * Order, limit and the `after` position are not filters; {@link queryRecords} applies them.
 */
export function matchesQuery(r: StoredRecord, q: StorageQuery): boolean {
  if (r.kind !== q.kind) return false;
  if (q.from !== undefined && r.time < q.from) return false;
  if (q.to !== undefined && r.time >= q.to) return false;
  if (q.clusters && !q.clusters.includes(r.cluster)) return false;
  if (q.names && !q.names.includes(r.name)) return false;
  for (const [filter, tag] of TAG_FILTERS) {
    const list = q[filter];
    if (list && !list.includes(r.tags[tag] as string)) return false;
  }

  if (q.loglevels) {
    const level = r.tags.loglevel ?? r.tags.level;
    const wanted = q.loglevels.map((l) => l.toLowerCase());
    if (level === undefined || !wanted.includes(level.toLowerCase())) return false;
  }
  for (const [k, v] of Object.entries(q.tags ?? {})) {
    if (!Object.hasOwn(r.tags, k) || r.tags[k] !== v) return false;
  }
  if (q.text !== undefined && !asciiLower(r.payload).includes(asciiLower(q.text))) return false;
  if (q.jobId !== undefined && r.jobId !== q.jobId) return false;
  return true;
}

/** Compares two records by (time, id) ascending. */
export function compareTimeId(a: StoredRecord, b: StoredRecord): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

/**
 * Answers `q` over `records` (any order): filters, sorts by (time, id) in the query's
 * order, continues after `q.after`, and cuts at `q.limit`. `next` is set when more follow.
 */
export function queryRecords(records: Iterable<StoredRecord>, q: StorageQuery): QueryPage {
  const sign = q.order === 'desc' ? -1 : 1;
  const after = q.after;
  const hits: StoredRecord[] = [];
  for (const r of records) {
    if (!matchesQuery(r, q)) continue;
    if (after && sign * compareTimeId(r, { time: after.time, id: after.id } as StoredRecord) <= 0)
      continue;
    hits.push(r);
  }

  hits.sort((a, b) => sign * compareTimeId(a, b));
  const page = hits.slice(0, Math.max(0, q.limit));
  const last = page[page.length - 1];
  const more = last !== undefined && hits.length > page.length;
  return more ? { records: page, next: { time: last.time, id: last.id } } : { records: page };
}
