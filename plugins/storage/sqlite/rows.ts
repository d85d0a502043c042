/**
 * Conversion between records and SQLite rows.
 */
import type { EventRecord, RecordKind, StoredRecord } from '../../../core/record.ts';
import { extraToJson, loglevelOf } from '../../../core/record.ts';

/** Column list of the insert statement, in the order of {@link recordParams}. */
export const INSERT_COLUMNS =
  'time, received_at, cluster, name, hostname, type, type_id, stype, stype_id, function, ' +
  'loglevel, job_id, tags, payload, extra, key';

/** The insert statement of a record table: a (time, key) already there is a duplicate. */
export function insertSql(table: string): string {
  return (
    `INSERT INTO ${table} (${INSERT_COLUMNS}) VALUES (${'?, '.repeat(15)}?)` +
    ' ON CONFLICT (time, key) DO NOTHING'
  );
}

/** Column list a query reads, in the order {@link rowToRecord} expects. */
export const SELECT_COLUMNS =
  'id, time, received_at, cluster, name, tags, payload, extra, job_id, key';

/** A row as a query statement with safe integers returns it. */
export interface RecordRow {
  id: bigint;
  time: bigint;
  received_at: bigint;
  cluster: string;
  name: string;
  tags: string;
  payload: string;
  extra: string | null;
  job_id: string | null;
  key: bigint;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Why a record cannot be a row, or undefined when it can. */
export function rowProblem(r: EventRecord): string | undefined {
  if (r.kind !== 'event' && r.kind !== 'log') return 'invalid_kind';
  if (r.time < INT64_MIN || r.time > INT64_MAX) return 'time_out_of_range';
  if (r.receivedAt < INT64_MIN || r.receivedAt > INT64_MAX) return 'time_out_of_range';
  return undefined;
}

/** Positional parameters of the insert statement for one record. */
export function recordParams(r: EventRecord): unknown[] {
  const t = r.tags;
  return [
    r.time,
    r.receivedAt,
    r.cluster,
    r.name,
    t.hostname ?? null,
    t.type ?? null,
    t['type-id'] ?? null,
    t.stype ?? null,
    t['stype-id'] ?? null,
    t.function ?? null,
    loglevelOf(t),
    r.jobId ?? null,
    JSON.stringify(t),
    r.payload,
    r.extra ? extraToJson(r.extra) : null,
    r.key,
  ];
}

/** The record a query row holds. */
export function rowToRecord(kind: RecordKind, row: RecordRow): StoredRecord {
  const rec: StoredRecord = {
    kind,
    cluster: row.cluster,
    name: row.name,
    time: row.time,
    receivedAt: row.received_at,
    tags: JSON.parse(row.tags) as Record<string, string>,
    payload: row.payload,
    key: row.key,
    id: row.id,
  };
  if (row.extra !== null) rec.extra = JSON.parse(row.extra) as StoredRecord['extra'];
  if (row.job_id !== null) rec.jobId = row.job_id;
  return rec;
}
