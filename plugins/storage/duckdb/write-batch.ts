/**
 * The write path: one batch of records into the events and logs tables in one transaction,
 * through DuckDB's appender, with an outcome per record.
 *
 * DuckDB's `INSERT OR IGNORE` needs a UNIQUE index (an in-memory ART that every append
 * checks) and tells nothing about which rows it skipped. Instead, a record can only be stored
 * already when its time is at most the newest time of its table; the (time, key) pairs of
 * those records go into a temporary table, one join over their time range finds the stored
 * ones, and only new rows are appended, all inside the transaction. Live data is mostly
 * newer than everything stored, so most batches skip the join.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { WriteOutcome } from '../../../core/contracts/storage.ts';
import type { EventRecord, RecordKind } from '../../../core/record.ts';
import { Params } from './params.ts';
import { TABLES } from './query-sql.ts';
import { appendRecord, rowProblem } from './rows.ts';
import { appendRows, inTransaction } from './transaction.ts';

/** The temporary table of a batch's keys; it lives in the write connection only. */
export const STAGE_DDL =
  'CREATE TEMP TABLE IF NOT EXISTS stage_keys (pos INTEGER, time BIGINT, key BIGINT)';

/** What the writer tracks of one table between batches. */
export interface TableState {
  /** The id of the next row. */
  nextId: bigint;
  /** At least the newest time stored (never less); undefined while the table is empty. */
  maxTime: bigint | undefined;
}

/** The state of each table; a batch returns a new one, taken over only after its commit. */
export type WriterState = Record<RecordKind, TableState>;

/** Reads the state of each table from the database. */
export async function loadWriterState(conn: DuckDBConnection): Promise<WriterState> {
  const state = {} as WriterState;
  for (const kind of ['event', 'log'] as const) {
    const sql = `SELECT coalesce(max(id), 0), max(time) FROM ${TABLES[kind]}`;
    const [maxId, maxTime] = (await conn.runAndReadAll(sql)).getRows()[0]!;
    state[kind] = {
      nextId: (maxId as bigint) + 1n,
      maxTime: (maxTime as bigint | null) ?? undefined,
    };
  }
  return state;
}

const STORED: WriteOutcome = Object.freeze({ status: 'stored' });
const DUPLICATE: WriteOutcome = Object.freeze({ status: 'duplicate' });

/**
 * Writes `batch` on `conn` (the caller serialises calls) and commits. Returns the outcome of
 * each record and the state after the commit. Throws the driver's error after rolling back.
 */
export async function writeBatch(
  conn: DuckDBConnection,
  batch: readonly EventRecord[],
  before: WriterState,
): Promise<{ outcomes: WriteOutcome[]; state: WriterState }> {
  const outcomes = new Array<WriteOutcome>(batch.length);
  const fresh: Record<RecordKind, number[]> = { event: [], log: [] };
  const seen: Record<RecordKind, Map<bigint, bigint[]>> = { event: new Map(), log: new Map() };
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i]!;
    const problem = rowProblem(r);
    if (problem) outcomes[i] = { status: 'rejected', reason: problem };
    else if (!remember(seen[r.kind], r)) outcomes[i] = DUPLICATE;
    else fresh[r.kind].push(i);
  }

  if (fresh.event.length + fresh.log.length === 0) return { outcomes, state: before };

  const state = { event: { ...before.event }, log: { ...before.log } };
  await inTransaction(conn, async () => {
    for (const kind of ['event', 'log'] as const) {
      if (fresh[kind].length === 0) continue;
      const table = state[kind];
      const stored = await storedBefore(conn, kind, batch, fresh[kind], table.maxTime);
      await appendRows(conn, TABLES[kind], (appender) => {
        for (const i of fresh[kind]) {
          if (stored.has(i)) {
            outcomes[i] = DUPLICATE;
            continue;
          }
          const r = batch[i]!;
          appendRecord(appender, table.nextId++, r);
          if (table.maxTime === undefined || r.time > table.maxTime) table.maxTime = r.time;
          outcomes[i] = STORED;
        }
      });
    }
  });
  return { outcomes, state };
}

/**
 * Adds the record's (time, key) to `seen` (key → times); false when it was there, a duplicate
 * within the batch. Keyed by the bigint itself: a string key per record costs three times as
 * much.
 */
function remember(seen: Map<bigint, bigint[]>, r: EventRecord): boolean {
  const times = seen.get(r.key);
  if (!times) seen.set(r.key, [r.time]);
  else if (times.includes(r.time)) return false;
  else times.push(r.time);
  return true;
}

/**
 * Positions (into `batch`) of the records at `positions` whose (time, key) is stored. Only
 * records not newer than `maxTime` can be.
 */
async function storedBefore(
  conn: DuckDBConnection,
  kind: RecordKind,
  batch: readonly EventRecord[],
  positions: readonly number[],
  maxTime: bigint | undefined,
): Promise<Set<number>> {
  const found = new Set<number>();
  if (maxTime === undefined) return found;
  const candidates = positions.filter((i) => batch[i]!.time <= maxTime);
  if (candidates.length === 0) return found;

  await conn.run('DELETE FROM stage_keys');
  let min = maxTime;
  let max = batch[candidates[0]!]!.time;
  await appendRows(conn, 'stage_keys', (stage) => {
    for (const i of candidates) {
      const r = batch[i]!;
      if (r.time < min) min = r.time;
      if (r.time > max) max = r.time;
      stage.appendInteger(i);
      stage.appendBigInt(r.time);
      stage.appendBigInt(r.key);
      stage.endRow();
    }
  });

  // The explicit range lets the scan skip every row group outside the candidates' times.
  const p = new Params();
  const sql =
    `SELECT s.pos FROM stage_keys s JOIN ${TABLES[kind]} e ON e.time = s.time AND e.key = s.key` +
    ` WHERE e.time >= ${p.int(min)} AND e.time <= ${p.int(max)}`;
  const reader = await conn.runAndReadAll(sql, p.values, p.types);
  for (const row of reader.getRows()) found.add(row[0] as number);
  return found;
}
