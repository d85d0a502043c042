/**
 * The Postgres storage: node-postgres with a pool. Writes go through COPY (see
 * write-batch.ts), tables are partitioned by day (see partitions.ts). When the server goes
 * away, calls reject with `CCES_ERR_STORAGE_UNAVAILABLE` and `ready()` is false; the pool
 * makes new connections by itself once the server is back.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type {
  CountRow,
  CountsQuery,
  QueryPage,
  RejectedItem,
  Storage,
  StorageQuery,
  StorageStats,
  StoredRejectedItem,
  WriteOutcome,
} from '../../../core/contracts/storage.ts';
import { createError } from '../../../core/errors.ts';
import type { EventRecord, RecordKind } from '../../../core/record.ts';
import { nowNanos } from '../../../core/time.ts';
import type { ConnectionSettings } from './connection.ts';
import { Partitions, type PartitionWindow } from './partitions.ts';
import { Health } from './health.ts';
import { codeOf, isRowError, isTransient, isUnavailable, storageError } from './pg-errors.ts';
import { countPostgres } from './analytics.ts';
import { ensureJsonFunction, usesJson } from './json-sql.ts';
import { buildQuery } from './query-sql.ts';
import { insertRejected, listRejected, pruneRejected } from './rejected.ts';
import { rowToRecord, type RecordRow } from './rows.ts';
import { migrate, namesFor, type Names } from './schema.ts';
import { copyBatch, insertBatch, prepareBatch, type PreparedBatch } from './write-batch.ts';

/** Settings of one Postgres storage. */
export interface PostgresOptions {
  connection: ConnectionSettings;
  /** The Postgres schema holding the tables; created when missing. */
  schema: string;
  partitions: PartitionWindow;
  /** Batches written at once, each on its own pooled connection. */
  writeConcurrency: number;
  logger: Logger;
}

// int8 as bigint: ids, times and keys need all 64 bits.
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => BigInt(v) : pg.types.getTypeParser(oid, format)) as never,
};

const TRANSIENT_RETRIES = 3;

/** Events, logs and rejected input in a Postgres database. */
export class PostgresStorage implements Storage {
  readonly #opts: PostgresOptions;
  readonly #names: Names;
  readonly #partitions: Partitions;
  readonly #health: Health;
  #pool: pg.Pool | undefined;
  #closing: Promise<void> | undefined;
  /** False after a COPY met an existing row, until a batch inserts without duplicates. */
  #copyOk = true;
  /**
   * Two batches in flight by default: while one COPY waits for its commit (the server's
   * fsync), the next one is already streaming.
   */
  readonly writeConcurrency: number;
  /** The keys of each batch being written, so that batches sharing a row take turns. */
  readonly #writing = new Set<Writing>();

  constructor(opts: PostgresOptions) {
    this.#opts = opts;
    this.writeConcurrency = opts.writeConcurrency;
    this.#names = namesFor(opts.schema);
    const run = <T>(fn: (c: pg.PoolClient) => Promise<T>) => this.#run(fn);
    this.#partitions = new Partitions(this.#names, opts.partitions, run, opts.logger);
    this.#health = new Health(opts.logger);
  }

  /** The partitions known, per kind (days since the epoch), for tests and tools. */
  get partitions(): Partitions {
    return this.#partitions;
  }

  async open(): Promise<void> {
    const { connection, logger } = this.#opts;
    const pool = new pg.Pool({ ...connection.pool, types: TYPES });
    // Without listeners a connection dropped by the server would crash the process.
    pool.on('error', (err) => this.#health.down(err));
    pool.on('connect', (client) => {
      client.on('error', (err) => this.#health.down(err));
      // An acknowledged write must survive a server crash whatever the server's default is.
      // Queued ahead of the client's first query, which a lost connection fails as well.
      client.query('SET synchronous_commit = on').catch((err: unknown) => this.#health.down(err));
    });
    this.#pool = pool;
    try {
      const found = await this.#run(async (c) => {
        const version = await migrate(c, this.#names);
        await this.#partitions.load(c);
        return version;
      });
      await this.#partitions.ensureAhead(nowNanos());
      logger.info(
        { ...connection.target, schema: this.#names.schema, schemaVersionFound: found },
        'postgres storage open',
      );
    } catch (err) {
      this.#pool = undefined;
      await pool.end().catch(() => undefined);
      if ((err as { code?: string }).code === 'CCES_ERR_STORAGE_OPEN') throw err;
      const { host, port, database } = connection.target;
      throw createError(
        'CCES_ERR_STORAGE_OPEN',
        `cannot open the Postgres database ${database} at ${host}:${port}: ${reasonOf(err)}`,
        { host, port, database, schema: this.#names.schema, unavailable: isUnavailable(err) },
        err,
      );
    }
  }

  async write(batch: readonly EventRecord[]): Promise<WriteOutcome[]> {
    const prepared = prepareBatch(batch);
    if (prepared.tables.length > 0) {
      const writing = await this.#turn(prepared);
      try {
        const now = nowNanos();
        for (const t of prepared.tables) {
          await this.#partitions.ensureFor(t.kind, t, now);
        }
        await this.#writeRows(prepared);
      } catch (err) {
        throw this.#error(`writing a batch of ${batch.length}`, err, 'CCES_ERR_STORAGE_WRITE');
      } finally {
        this.#writing.delete(writing);
        writing.finished();
      }
    }
    return prepared.outcomes as WriteOutcome[];
  }

  /**
   * Waits until no batch being written shares a row with `p`, then registers `p`. Two COPYs
   * inserting the same rows in different orders (a retry or redelivery of a batch still in
   * flight) would each wait for the other's uncommitted rows: a deadlock. Taking turns, the
   * later one finds the rows committed and reports them as duplicates.
   */
  async #turn(p: PreparedBatch): Promise<Writing> {
    const keys = new Set<bigint>();
    for (const t of p.tables) for (const r of t.records) keys.add(r.key);
    for (;;) {
      const clashes = [...this.#writing].filter((w) => shareKey(w.keys, keys));
      if (clashes.length === 0) break;
      await Promise.all(clashes.map((w) => w.done));
    }
    let finished!: () => void;
    const done = new Promise<void>((resolve) => (finished = resolve));
    const writing: Writing = { keys, done, finished };
    this.#writing.add(writing);
    return writing;
  }

  async query(q: StorageQuery): Promise<QueryPage> {
    if (q.limit <= 0) return { records: [] };
    const { text, values } = buildQuery(q, this.#names);
    let rows: RecordRow[];
    try {
      rows = await this.#run(async (c) => {
        if (usesJson(text)) await ensureJsonFunction(c);
        return (await c.query<RecordRow>({ text, values, rowMode: 'array' })).rows;
      });
    } catch (err) {
      throw this.#error(`a ${q.kind} query`, err, 'CCES_ERR_STORAGE_QUERY');
    }
    const more = rows.length > q.limit;
    if (more) rows.pop();
    const records = rows.map((row) => rowToRecord(q.kind, row));
    const last = records[records.length - 1];
    return more && last ? { records, next: { time: last.time, id: last.id } } : { records };
  }

  /** Counts per bucket and group (see analytics.ts). */
  async counts(q: CountsQuery): Promise<CountRow[]> {
    try {
      return await this.#run((c) => countPostgres(c, this.#names, q));
    } catch (err) {
      throw this.#error(`a ${q.kind} count`, err, 'CCES_ERR_STORAGE_QUERY');
    }
  }

  /**
   * Drops whole partitions older than `before` first; that may remove more than `limit`
   * rows in one call. Then deletes at most the rest of `limit` rows from the partition that
   * straddles the cutoff and from the default partition.
   */
  async deleteBefore(kind: RecordKind, before: bigint, limit: number): Promise<number> {
    try {
      let deleted = await this.#partitions.dropBefore(kind, before);
      for (const part of this.#partitions.straddling(kind, before)) {
        if (deleted >= limit) break;
        const res = await this.#run((c) =>
          c.query(
            `DELETE FROM ${part} WHERE ctid = ANY(ARRAY(
               SELECT ctid FROM ${part} WHERE time < $1 LIMIT $2))`,
            [before, limit - deleted],
          ),
        );
        deleted += res.rowCount ?? 0;
      }
      return deleted;
    } catch (err) {
      throw this.#error(`deleting old ${kind}s`, err, 'CCES_ERR_STORAGE_WRITE');
    }
  }

  async writeRejected(items: readonly RejectedItem[]): Promise<void> {
    if (items.length === 0) return;
    try {
      await this.#run((c) => insertRejected(c, this.#names, items));
    } catch (err) {
      throw this.#error('keeping rejected input', err, 'CCES_ERR_STORAGE_WRITE');
    }
  }

  async listRejected(limit: number, beforeId?: bigint): Promise<StoredRejectedItem[]> {
    try {
      return await this.#run((c) => listRejected(c, this.#names, limit, beforeId));
    } catch (err) {
      throw this.#error('listing rejected input', err, 'CCES_ERR_STORAGE_QUERY');
    }
  }

  async pruneRejected(keep: number, before: bigint): Promise<number> {
    try {
      return await this.#run((c) => pruneRejected(c, this.#names, keep, before));
    } catch (err) {
      throw this.#error('pruning rejected input', err, 'CCES_ERR_STORAGE_WRITE');
    }
  }

  async stats(): Promise<StorageStats> {
    const n = this.#names;
    const size = (p: string) =>
      `(SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree(${p}))`;
    try {
      const res = await this.#run((c) =>
        c.query<[bigint, bigint, bigint, string]>({
          text: `SELECT (SELECT count(*) FROM ${n.events}), (SELECT count(*) FROM ${n.logs}),
                   (SELECT count(*) FROM ${n.rejected}),
                   ${size('$1::regclass')} + ${size('$2::regclass')}
                   + pg_total_relation_size($3::regclass)`,
          values: [n.events, n.logs, n.rejected],
          rowMode: 'array',
        }),
      );
      const [events, logs, rejected, bytes] = res.rows[0]!.map(Number);
      return { events: events!, logs: logs!, rejected: rejected!, bytes: bytes! };
    } catch (err) {
      throw this.#error('reading stats', err, 'CCES_ERR_STORAGE_QUERY');
    }
  }

  /** True when the server answers within the connection timeout and takes writes. */
  async ready(): Promise<boolean> {
    const pool = this.#pool;
    if (!pool || this.#closing) return false;
    const probe = pool
      .query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')
      .then((res) => {
        this.#health.up();
        return !res.rows[0]!.standby;
      })
      .catch((err: unknown) => {
        this.#health.down(err);
        return false;
      });
    const waitMs = this.#opts.connection.pool.connectionTimeoutMillis || 5000;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, waitMs, false)));
    try {
      return await Promise.race([probe, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const pool = this.#pool;
    if (!pool) return;
    await pool.end();
    this.#opts.logger.info({ schema: this.#names.schema }, 'postgres storage closed');
  }

  async #writeRows(p: PreparedBatch): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#run(async (c) => {
          if (this.#copyOk) {
            try {
              await copyBatch(c, this.#names, p);
              return;
            } catch (err) {
              if (!isRowError(err)) throw err;
              // An existing row: likely a retry of a batch, so more may follow.
              if ((err as { code?: string }).code === '23505') this.#copyOk = false;
            }
          }
          this.#copyOk = (await insertBatch(c, this.#names, p)) === 0;
        }, this.#opts.connection.writeTimeoutMs);
        return;
      } catch (err) {
        if (!isTransient(err) || attempt >= TRANSIENT_RETRIES) throw err;
      }
    }
  }

  /**
   * Lends a pool client to `fn`; a client that failed for connection reasons is discarded.
   * With `timeoutMs`, a server that leaves the work unanswered that long (a network
   * partition, a frozen host) has its connection cut, which fails `fn` as unavailable.
   */
  async #run<T>(fn: (client: pg.PoolClient) => Promise<T>, timeoutMs?: number): Promise<T> {
    const pool = this.#pool;
    if (!pool || this.#closing) {
      throw createError('CCES_ERR_STORAGE_UNAVAILABLE', 'the Postgres storage is not open', {
        schema: this.#names.schema,
      });
    }
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      this.#health.down(err);
      throw err;
    }
    const watchdog = timeoutMs
      ? setTimeout(() => abandon(client, timeoutMs), timeoutMs)
      : undefined;
    try {
      const result = await fn(client);
      client.release();
      this.#health.up();
      return result;
    } catch (err) {
      const broken = isUnavailable(err) || (err as { code?: string }).code === undefined;
      client.release(broken ? (err as Error) : undefined);
      if (isUnavailable(err)) this.#health.down(err);
      throw err;
    } finally {
      clearTimeout(watchdog);
    }
  }

  #error(what: string, err: unknown, code: Parameters<typeof storageError>[2]) {
    if ((err as { code?: string }).code?.startsWith('CCES_ERR_')) return err as Error;
    return storageError(what, err, code, { schema: this.#names.schema });
  }
}

/**
 * The first line of what the driver or the server said, else its error code. It never holds
 * the password: pg's messages do not quote the connection string (only its parse errors
 * would, and connection.ts replaces those).
 */
function reasonOf(err: unknown): string {
  const line = err instanceof Error ? err.message.split('\n', 1)[0]!.trim() : String(err);
  return line || (codeOf(err) ?? 'an unknown error');
}

/** A batch being written: its keys and when it is done. */
interface Writing {
  keys: Set<bigint>;
  done: Promise<void>;
  finished(): void;
}

function shareKey(a: Set<bigint>, b: Set<bigint>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const k of small) if (large.has(k)) return true;
  return false;
}

/** Cuts a client's connection; its pending queries fail with an ETIMEDOUT error. */
function abandon(client: pg.PoolClient, ms: number): void {
  const err = Object.assign(new Error(`postgres left a write unanswered for ${ms} ms`), {
    code: 'ETIMEDOUT',
  });
  (
    client as unknown as { connection: { stream: { destroy(err: Error): void } } }
  ).connection.stream.destroy(err);
}
