/**
 * Conversion between records and DuckDB rows. The columns match the SQLite backend's, so
 * both answer a query with the same records.
 */
import type { DuckDBAppender, DuckDBValue } from '@duckdb/node-api';
import type { EventRecord, RecordKind, StoredRecord } from '../../../core/record.ts';
import { extraToJson, loglevelOf } from '../../../core/record.ts';

/** Column list a query reads, in the order {@link rowToRecord} expects. */
export const SELECT_COLUMNS =
  'id, time, received_at, cluster, name, tags, payload, extra, job_id, key';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Why a record cannot be a row, or undefined when it can. */
export function rowProblem(r: EventRecord): string | undefined {
  if (r.time < INT64_MIN || r.time > INT64_MAX) return 'time_out_of_range';
  if (r.receivedAt < INT64_MIN || r.receivedAt > INT64_MAX) return 'time_out_of_range';
  return undefined;
}


/**
 * Appends one record as a row of an events or logs table, in the table's column order:
 * id, time, received_at, cluster, name, hostname, type, type_id, stype, stype_id, function,
 * loglevel, job_id, tags, payload, extra, key.
 */
export function appendRecord(a: DuckDBAppender, id: bigint, r: EventRecord): void {
  const t = r.tags;
  a.appendBigInt(id);
  a.appendBigInt(r.time);
  a.appendBigInt(r.receivedAt);
  a.appendVarchar(r.cluster);
  a.appendVarchar(r.name);
  appendText(a, t.hostname);
  appendText(a, t.type);
  appendText(a, t['type-id']);
  appendText(a, t.stype);
  appendText(a, t['stype-id']);
  appendText(a, t.function);
  appendText(a, loglevelOf(t) ?? undefined);
  appendText(a, r.jobId);
  a.appendVarchar(JSON.stringify(t));
  a.appendVarchar(r.payload);
  appendText(a, r.extra ? extraToJson(r.extra) : undefined);
  a.appendBigInt(r.key);
  a.endRow();
}

function appendText(a: DuckDBAppender, v: string | undefined): void {
  if (v === undefined) a.appendNull();
  else a.appendVarchar(v);
}

/** The record a query row holds; `row` is in {@link SELECT_COLUMNS} order. */
export function rowToRecord(kind: RecordKind, row: readonly DuckDBValue[]): StoredRecord {
  const [id, time, receivedAt, cluster, name, tags, payload, extra, jobId, key] = row;
  const rec: StoredRecord = {
    kind,
    cluster: cluster as string,
    name: name as string,
    time: time as bigint,
    receivedAt: receivedAt as bigint,
    tags: JSON.parse(tags as string) as Record<string, string>,
    payload: payload as string,
    key: key as bigint,
    id: id as bigint,
  };
  if (extra !== null) rec.extra = JSON.parse(extra as string) as StoredRecord['extra'];
  if (jobId !== null) rec.jobId = jobId as string;
  return rec;
}
