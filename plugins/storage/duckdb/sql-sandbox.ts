/**
 * Ad-hoc SQL on DuckDB for administrators, confined three ways: the instance is hardened
 * before the first query (no file system access outside the store's own export folder, no
 * extension installs, configuration locked), the text must be exactly one statement whose
 * prepared type is SELECT, and each query runs on its own connection that is interrupted
 * after the time limit.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatementType, type DuckDBInstance } from '@duckdb/node-api';
import type { SqlLimits, SqlResult } from '../../../core/contracts/storage.ts';
import { createError, hasCode } from '../../../core/errors.ts';

const hardened = new WeakMap<DuckDBInstance, Promise<string>>();

/**
 * Hardens `instance` once; resolves with the folder the store may still write (exports).
 * After this no connection of the instance can read or write other files or change settings.
 */
export function hardenInstance(instance: DuckDBInstance): Promise<string> {
  let done = hardened.get(instance);
  if (!done) {
    done = (async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cces-duckdb-export-'));
      const conn = await instance.connect();
      try {
        // The folder is ours (mkdtemp): its name holds no quote.
        await conn.run(`SET allowed_directories = ['${dir}/']`);
        await conn.run('SET autoinstall_known_extensions = false');
        await conn.run('SET autoload_known_extensions = false');
        await conn.run('SET enable_external_access = false');
        await conn.run('SET lock_configuration = true');
      } finally {
        conn.closeSync();
      }
      return dir;
    })();
    hardened.set(instance, done);
  }
  return done;
}

// Names of functions that read files or run SQL text, refused before DuckDB sees them even
// though the hardened instance would refuse the file access itself.
const FORBIDDEN = new RegExp(
  '\\b(read_\\w+|\\w+_scan|glob|query|query_table|sniff_csv|parquet_\\w+|' +
    'checkpoint|force_checkpoint|nextval|setval)\\s*\\(',
  'i',
);

/** Runs one read-only SELECT with limits; see Storage.sql in the contract for rejections. */
export async function runSandboxedSql(
  instance: DuckDBInstance,
  text: string,
  limits: SqlLimits,
): Promise<SqlResult> {
  await hardenInstance(instance);
  const forbidden = FORBIDDEN.exec(text);
  if (forbidden) throw refused(`the function ${forbidden[1]}() is not allowed`);
  const conn = await instance.connect();
  const timer = setTimeout(() => conn.interrupt(), limits.timeoutMs);
  let timedOut = false;
  timer.unref();
  try {
    const statements = await conn.extractStatements(text).catch((err: unknown) => {
      throw refused(`the query does not parse: ${(err as Error).message}`, err);
    });
    if (statements.count !== 1) throw refused(`one statement expected, found ${statements.count}`);
    const prepared = await statements.prepare(0).catch((err: unknown) => {
      throw refused(`the query cannot be prepared: ${(err as Error).message}`, err);
    });
    if (prepared.statementType !== StatementType.SELECT) {
      const type = StatementType[prepared.statementType] ?? String(prepared.statementType);
      throw refused(`only SELECT is allowed, found ${type}`);
    }
    const reader = await prepared.streamAndReadUntil(limits.maxRows + 1).catch((err: unknown) => {
      timedOut = /interrupt/i.test((err as Error).message);
      throw err;
    });
    const rows = reader.getRowsJson() as unknown[][];
    const names = reader.columnNames();
    const types = reader.columnTypes();
    return {
      columns: names.map((name, i) => ({ name, type: types[i]!.toString() })),
      rows: rows.slice(0, limits.maxRows),
      truncated: rows.length > limits.maxRows,
    };
  } catch (err) {
    throw classify(err, timedOut, limits.timeoutMs);
  } finally {
    clearTimeout(timer);
    conn.closeSync();
  }
}

function classify(err: unknown, timedOut: boolean, timeoutMs: number): unknown {
  if (hasCode(err, 'CCES_ERR_SQL_REFUSED')) return err;
  if (timedOut) {
    return createError(
      'CCES_ERR_SQL_TIMEOUT',
      `the query ran longer than ${timeoutMs} ms`,
      {},
      err,
    );
  }
  const message = (err as Error).message ?? '';
  if (/Permission Error|disabled by configuration|configuration has been locked/i.test(message)) {
    return refused(`the query reaches outside the store: ${message.split('\n')[0]}`, err);
  }
  return createError(
    'CCES_ERR_STORAGE_QUERY',
    `the SQL query failed: ${message.split('\n')[0]}`,
    {},
    err,
  );
}

function refused(message: string, cause?: unknown) {
  return createError('CCES_ERR_SQL_REFUSED', message, {}, cause);
}
