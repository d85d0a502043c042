/**
 * Daily partitions of the events and logs tables. Partitions are created ahead for the
 * coming days and on demand for a batch inside the window [today - back, today + ahead];
 * rows outside the window (far past or future times) land in the default partition, so a
 * stray timestamp never creates a partition. Retention drops whole partitions that lie
 * entirely before the cutoff and deletes rows in chunks from the rest.
 *
 * Creating and dropping a partition locks the parent table exclusively for a moment, so it
 * waits behind long queries and makes writes wait behind it. Both are bounded by a short
 * lock timeout; a partition that cannot be created now is no loss (its rows go to the
 * default partition and move over once it exists), so the write goes on and creation is
 * tried again a minute later.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import type { RecordKind } from '../../../core/record.ts';
import { codeOf, isUnavailable } from './pg-errors.ts';
import { INSERT_COLUMNS } from './rows.ts';
import type { Names } from './schema.ts';

/** Nanoseconds of one day. */
export const DAY_NS = 86_400_000_000_000n;

/** The day number (days since the epoch, UTC) of a time in ns. */
export function dayOf(ns: bigint): number {
  return Number(ns >= 0n ? ns / DAY_NS : -((-ns + DAY_NS - 1n) / DAY_NS));
}

/** The partition of `table` that holds `day`, such as `events_p20250101`. */
export function partitionName(table: string, day: number): string {
  const date = new Date(day * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
  return `${table}_p${date}`;
}

/** Window of on-demand partitions, in days around today. */
export interface PartitionWindow {
  ahead: number;
  back: number;
}

/** What partitioning needs to know of a batch's rows for one table. */
export interface BatchTimes {
  minTime: bigint;
  maxTime: bigint;
  records: ReadonlyArray<{ time: bigint }>;
}

type Run = <T>(fn: (client: pg.PoolClient) => Promise<T>) => Promise<T>;

/** How long partition DDL waits for its lock on the parent table. */
const LOCK_TIMEOUT = '2s';
const CREATE_RETRY_MS = 60_000;

/** Knows and manages the daily partitions of both record tables. */
export class Partitions {
  readonly #names: Names;
  readonly #window: PartitionWindow;
  readonly #run: Run;
  readonly #logger: Logger;
  readonly #known = new Map<RecordKind, Set<number>>();
  #aheadFor: number | undefined;
  /** No creation is tried before this time (ms) after one failed. */
  #createAfter = 0;
  #createFailures = 0;

  /** `run` lends a pool client for one unit of work and gives it back. */
  constructor(names: Names, window: PartitionWindow, run: Run, logger: Logger) {
    this.#names = names;
    this.#window = window;
    this.#run = run;
    this.#logger = logger;
  }

  /** Days with a partition, per kind, ascending (for tests and stats). */
  days(kind: RecordKind): number[] {
    return [...(this.#known.get(kind) ?? [])].sort((a, b) => a - b);
  }

  /** Reads the partitions that exist from the catalog. */
  async load(client: pg.ClientBase): Promise<void> {
    for (const kind of ['event', 'log'] as const) {
      const table = this.#names.table[kind];
      const res = await client.query<{ relname: string }>(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = $1::regclass`,
        [this.#names.q(table)],
      );
      const days = new Set<number>();
      const pattern = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`);
      for (const { relname } of res.rows) {
        const m = pattern.exec(relname);
        if (m) days.add(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!) / 86_400_000);
      }
      this.#known.set(kind, days);
    }
  }

  /** Creates the partitions from yesterday to `ahead` days on, once per day. */
  async ensureAhead(now: bigint): Promise<void> {
    const today = dayOf(now);
    if (this.#aheadFor === today) return;
    const days: number[] = [];
    for (let d = today - 1; d <= today + this.#window.ahead; d++) days.push(d);
    let complete = true;
    for (const kind of ['event', 'log'] as const) complete &&= await this.#ensure(kind, days);
    if (complete) this.#aheadFor = today;
  }

  /**
   * Creates the missing partitions inside the window for the days of a batch's times. Most
   * batches lie within one day (min and max tell); only others are looked at row by row.
   */
  async ensureFor(kind: RecordKind, batch: BatchTimes, now: bigint): Promise<void> {
    await this.ensureAhead(now);
    const today = dayOf(now);
    const [lo, hi] = [today - this.#window.back, today + this.#window.ahead];
    const first = dayOf(batch.minTime);
    const last = dayOf(batch.maxTime);
    if (last < lo || first > hi) return;
    const days = new Set<number>([first, last]);
    if (last - first > 1) for (const r of batch.records) days.add(dayOf(r.time));
    const known = this.#known.get(kind)!;
    const missing = [...days].filter((d) => d >= lo && d <= hi && !known.has(d));
    if (missing.length > 0) await this.#ensure(kind, missing);
  }

  /**
   * Drops the partitions of `kind` that lie entirely before `before`; returns how many rows
   * they held. A drop that cannot get its lock in time fails the call (`55P03`).
   */
  async dropBefore(kind: RecordKind, before: bigint): Promise<number> {
    const table = this.#names.table[kind];
    await this.#run((c) => this.load(c));
    let rows = 0;
    for (const day of this.days(kind)) {
      if (BigInt(day + 1) * DAY_NS > before) break;
      const part = this.#names.q(partitionName(table, day));
      rows += await this.#run(async (c) => {
        await c.query('BEGIN');
        try {
          // Store processes sharing the database run retention at the same moments; two
          // drops of one partition deadlock. Each waits for the other and skips a drop done.
          await lockMaintenance(c, this.#names.q(table));
          await c.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
          const exists = await c.query('SELECT to_regclass($1) AS r', [part]);
          if (exists.rows[0].r === null) {
            await c.query('COMMIT');
            return 0;
          }
          const res = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${part}`);
          await c.query(`DROP TABLE ${part}`);
          await c.query('COMMIT');
          return Number(res.rows[0]!.n);
        } catch (err) {
          await rollback(c);
          throw err;
        }
      });
      this.#known.get(kind)!.delete(day);
    }
    return rows;
  }

  /**
   * The partitions that may hold rows older than `before` once whole days are dropped: the
   * one whose day straddles the cutoff (if any) and the default partition.
   */
  straddling(kind: RecordKind, before: bigint): string[] {
    const table = this.#names.table[kind];
    const day = dayOf(before);
    const parts = this.#known.get(kind)!.has(day) ? [partitionName(table, day)] : [];
    return [...parts, `${table}_default`].map((p) => this.#names.q(p));
  }

  /** Creates the missing ones of `days`; false when that failed for now. */
  async #ensure(kind: RecordKind, days: number[]): Promise<boolean> {
    const known = this.#known.get(kind)!;
    const missing = days.filter((d) => !known.has(d));
    if (missing.length === 0) return true;
    if (Date.now() < this.#createAfter) return false;
    try {
      await this.#run(async (c) => {
        await c.query('BEGIN');
        try {
          await c.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
          await lockMaintenance(c, this.#names.q(this.#names.table[kind]));
          for (const day of missing) await this.#create(c, kind, day);
          await c.query('COMMIT');
        } catch (err) {
          await rollback(c);
          throw err;
        }
      });
    } catch (err) {
      if (isUnavailable(err)) throw err;
      this.#createAfter = Date.now() + CREATE_RETRY_MS;
      if (this.#createFailures++ === 0) {
        const reason = (err as Error).message;
        this.#logger.warn({ pgCode: codeOf(err), reason, kind }, 'postgres partition not created');
      }
      return false;
    }
    if (this.#createFailures > 0) {
      this.#logger.info({ failures: this.#createFailures }, 'postgres partitions created again');
      this.#createFailures = 0;
    }
    for (const day of missing) known.add(day);
    return true;
  }

  // Several processes may create the same partition at once; the advisory lock (taken by
  // the caller) orders them and the existence check makes the late ones no-ops. Rows of
  // that day already in the default partition (written while the day was outside the
  // window) move over.
  async #create(c: pg.PoolClient, kind: RecordKind, day: number): Promise<void> {
    const n = this.#names;
    const table = n.table[kind];
    const [part, parent, dflt] = [
      n.q(partitionName(table, day)),
      n.q(table),
      n.q(`${table}_default`),
    ];
    const lo = BigInt(day) * DAY_NS;
    const bounds = `FOR VALUES FROM (${lo}) TO (${lo + DAY_NS})`;
    const inRange = `time >= ${lo} AND time < ${lo + DAY_NS}`;
    const exists = await c.query('SELECT to_regclass($1) AS r', [part]);
    if (exists.rows[0].r !== null) return;
    const stray = await c.query(`SELECT 1 FROM ${dflt} WHERE ${inRange} LIMIT 1`);
    if (stray.rowCount === 0) {
      await c.query(`CREATE TABLE ${part} PARTITION OF ${parent} ${bounds}`);
      return;
    }
    const cols = `id, ${INSERT_COLUMNS}`;
    await c.query(`CREATE TABLE ${part} (LIKE ${parent} INCLUDING DEFAULTS)`);
    await c.query(
      `WITH moved AS (DELETE FROM ${dflt} WHERE ${inRange} RETURNING ${cols})
       INSERT INTO ${part} (${cols}) SELECT ${cols} FROM moved`,
    );
    await c.query(`ALTER TABLE ${parent} ATTACH PARTITION ${part} ${bounds}`);
  }
}

/** Orders partition DDL on `parent` among store processes, until the transaction ends. */
async function lockMaintenance(c: pg.ClientBase, parent: string): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`cces-partition:${parent}`]);
}

/** Rolls back, ignoring a connection that is already gone. */
export async function rollback(c: pg.ClientBase): Promise<void> {
  await c.query('ROLLBACK').catch(() => {
    // A lost connection has no transaction left to roll back.
  });
}
