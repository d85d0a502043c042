/**
 * Writing one batch. The fast path streams each table's rows with one COPY, all in one
 * transaction. COPY knows no ON CONFLICT, so a row that exists already (a retry, a
 * redelivery) or a row the server refuses fails the whole COPY; the batch then goes again
 * through `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING RETURNING`, which
 * reports the stored rows, with a savepoint around each part so that a refused row is
 * found by halving and rejected alone.
 */
import type pg from 'pg';
import type { WriteOutcome } from '../../../core/contracts/storage.ts';
import type { EventRecord, RecordKind } from '../../../core/record.ts';
import { CopyFrom } from './copy-from.ts';
import { rollback } from './partitions.ts';
import { isRowError, rowReason } from './pg-errors.ts';
import { copyRecord, INSERT_COLUMNS, INSERT_TYPES, rowValues, timeProblem } from './rows.ts';
import type { RowValues } from './rows.ts';
import type { Names } from './schema.ts';

const STORED: WriteOutcome = Object.freeze({ status: 'stored' });
const DUPLICATE: WriteOutcome = Object.freeze({ status: 'duplicate' });
const NUL_BYTE: WriteOutcome = Object.freeze({ status: 'rejected', reason: 'nul_byte' });

// Rows per COPY chunk: large enough to amortise a turn of the event loop, small enough
// that the server starts on the first chunk while the rest is encoded.
const CHUNK_ROWS = 200;

/** The records of one table of a batch, with the index of each in the batch. */
export interface TableRows {
  kind: RecordKind;
  index: number[];
  records: EventRecord[];
  /** Smallest and largest time, for the partitions the rows need. */
  minTime: bigint;
  maxTime: bigint;
}

/** A batch sorted out: outcomes known before the database is asked, and rows to write. */
export interface PreparedBatch {
  outcomes: Array<WriteOutcome | undefined>;
  tables: TableRows[];
}

/**
 * Rejects records whose times do not fit 64 bits and marks repeats within the batch as
 * duplicates (the first one of equal (kind, time, key) is written).
 */
export function prepareBatch(batch: readonly EventRecord[]): PreparedBatch {
  const outcomes: Array<WriteOutcome | undefined> = new Array(batch.length);
  const byKind = new Map<RecordKind, TableRows>();
  const seen = new Map<bigint, EventRecord>();
  let collided: Set<string> | undefined;
  for (let i = 0; i < batch.length; i++) {
    const r = batch[i]!;
    const problem = timeProblem(r);
    if (problem) {
      outcomes[i] = { status: 'rejected', reason: problem };
      continue;
    }
    const first = seen.get(r.key);
    if (first === undefined) {
      seen.set(r.key, r);
    } else {
      // Equal keys with another time or kind are a 64-bit hash collision: both are new.
      collided ??= new Set();
      const id = `${r.kind}:${r.time}:${r.key}`;
      if ((first.time === r.time && first.kind === r.kind) || collided.has(id)) {
        outcomes[i] = DUPLICATE;
        continue;
      }
      collided.add(id);
    }
    let rows = byKind.get(r.kind);
    if (!rows) {
      rows = { kind: r.kind, index: [], records: [], minTime: r.time, maxTime: r.time };
      byKind.set(r.kind, rows);
    }
    rows.index.push(i);
    rows.records.push(r);
    if (r.time < rows.minTime) rows.minTime = r.time;
    if (r.time > rows.maxTime) rows.maxTime = r.time;
  }
  return { outcomes, tables: [...byKind.values()] };
}

/**
 * The fast path: one COPY per table, all in one query string and so in one transaction;
 * every row is stored when it resolves (rows holding NUL outside the payload are left out
 * and rejected). Rejects with the server's error; the server rolled everything back.
 */
export async function copyBatch(c: pg.ClientBase, n: Names, p: PreparedBatch): Promise<void> {
  forget(p);
  const sql = p.tables
    .map((t) => `COPY ${n.q(n.table[t.kind])} (${INSERT_COLUMNS}) FROM STDIN`)
    .join('; ');
  const copy = new CopyFrom(
    sql,
    p.tables.map((t) => copyChunks(t, p.outcomes)),
  );
  void c.query(copy);
  await copy.done;
  for (const t of p.tables) for (const i of t.index) p.outcomes[i] ??= STORED;
}

function* copyChunks(t: TableRows, outcomes: PreparedBatch['outcomes']): Generator<Buffer> {
  for (let at = 0; at < t.records.length; at += CHUNK_ROWS) {
    const end = Math.min(at + CHUNK_ROWS, t.records.length);
    let text = '';
    for (let j = at; j < end; j++) {
      const line = copyRecord(t.records[j]!);
      if (line !== undefined) text += line;
      else outcomes[t.index[j]!] = NUL_BYTE;
    }
    yield Buffer.from(text);
  }
}

/**
 * The careful path: inserts that skip existing rows, in one transaction, halving any part
 * the server refuses until the refused rows are found; those are rejected with the
 * server's SQLSTATE. Returns how many rows were duplicates of stored ones.
 */
export async function insertBatch(c: pg.ClientBase, n: Names, p: PreparedBatch): Promise<number> {
  let duplicates = 0;
  forget(p);
  await c.query('BEGIN');
  try {
    for (const t of p.tables) {
      const sql = insertSql(n.q(n.table[t.kind]));
      const rows: Array<[number, RowValues]> = [];
      t.records.forEach((r, j) => {
        const values = rowValues(r);
        if (values) rows.push([t.index[j]!, values]);
        else p.outcomes[t.index[j]!] = NUL_BYTE;
      });
      duplicates += await insertPart(c, sql, rows, p.outcomes);
    }
    await c.query('COMMIT');
  } catch (err) {
    await rollback(c);
    throw err;
  }
  return duplicates;
}

async function insertPart(
  c: pg.ClientBase,
  sql: string,
  rows: Array<[number, RowValues]>,
  outcomes: PreparedBatch['outcomes'],
): Promise<number> {
  if (rows.length === 0) return 0;
  let res: pg.QueryResult<{ time: string; key: string }>;
  await c.query('SAVEPOINT cces_part');
  try {
    res = await c.query(
      sql,
      INSERT_TYPES.map((_, col) => rows.map(([, v]) => v[col])),
    );
    await c.query('RELEASE SAVEPOINT cces_part');
  } catch (err) {
    if (!isRowError(err)) throw err;
    await c.query('ROLLBACK TO SAVEPOINT cces_part');
    if (rows.length === 1) {
      outcomes[rows[0]![0]] = { status: 'rejected', reason: rowReason(err) };
      return 0;
    }
    const half = rows.length >> 1;
    return (
      (await insertPart(c, sql, rows.slice(0, half), outcomes)) +
      (await insertPart(c, sql, rows.slice(half), outcomes))
    );
  }

  const stored = new Set(res.rows.map((r) => `${r.time}:${r.key}`));
  let duplicates = 0;
  for (const [i, v] of rows) {
    const ok = stored.has(`${v[0]}:${v[16]}`);
    outcomes[i] = ok ? STORED : DUPLICATE;
    if (!ok) duplicates++;
  }
  return duplicates;
}

/** Clears the outcomes an earlier, rolled-back attempt left. */
function forget(p: PreparedBatch): void {
  for (const t of p.tables) for (const i of t.index) p.outcomes[i] = undefined;
}

function insertSql(table: string): string {
  const arrays = INSERT_TYPES.map((type, i) => `$${i + 1}::${type}[]`).join(', ');
  return (
    `INSERT INTO ${table} (${INSERT_COLUMNS}) SELECT * FROM unnest(${arrays}) ` +
    'ON CONFLICT (time, key) DO NOTHING RETURNING time::text, key::text'
  );
}
