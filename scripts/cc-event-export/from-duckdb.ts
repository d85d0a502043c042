/**
 * Export straight from a DuckDB database file of the store, opened read-only: the store's
 * own COPY statement (see plugins/storage/duckdb/export-file.ts), with DuckDB's query
 * progress on the bar.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { DuckDBInstance, DuckDBPendingResultState } from '@duckdb/node-api';
import { buildCopySql } from '../../plugins/storage/duckdb/export-file.ts';
import { UsageError, type ExportArgs } from './args.ts';
import type { Progress } from './progress.ts';

const POLL_MS = 1;
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Writes the export of `args` into `file`; resolves to the number of records written. */
export async function exportFromDuckDb(
  args: ExportArgs,
  file: string,
  progress: Progress,
): Promise<number> {
  const path = args.duckdb!;
  if (!existsSync(path)) throw new Error(`no DuckDB database at ${path}`);
  if (isSqliteFile(path)) {
    throw new UsageError(
      `${path} is a SQLite database, not DuckDB: --duckdb reads only the duckdb storage's ` +
        'file, and --url needs a store on duckdb. Export from a SQLite store over its ' +
        'running API: GET /api/v1/events?format=csv (or /api/v1/logs), at most 10000 ' +
        'records a page, the next cursor in the X-Next-Cursor header',
    );
  }
  const instance = await openReadOnly(path);
  try {
    const conn = await instance.connect();
    try {
      // Progress is tracked only with the bar on; DuckDB's own printing stays off.
      await conn.run('SET enable_progress_bar = true');
      await conn.run('SET enable_progress_bar_print = false');
      const { sql, params } = buildCopySql(args, file);
      const pending = await conn.start(sql, params.values, params.types);
      progress.start(100);
      // runTask does one slice of work; the pause between slices keeps the event loop alive.
      while (pending.runTask() !== DuckDBPendingResultState.RESULT_READY) {
        const pct = conn.progress.percentage;
        if (pct >= 0) progress.update(Math.floor(pct));
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const rows = await (await pending.getResult()).getRows();
      progress.update(100);
      return Number(rows[0]?.[0] ?? 0);
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

// DuckDB opens a file of another database by loading that database's extension, installing it
// from the network first; a SQLite file is refused before that, and nothing is ever fetched.
function isSqliteFile(path: string): boolean {
  const head = Buffer.alloc(SQLITE_HEADER.length);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_HEADER);
  } catch {
    // Unreadable here (a folder, say): DuckDB's open reports it.
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Opens `path` read-only, with DuckDB's automatic install and load of extensions off: an
 * export needs none, and a file DuckDB takes for another database must not fetch one.
 */
export async function openReadOnly(path: string): Promise<DuckDBInstance> {
  const config = {
    access_mode: 'READ_ONLY',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  try {
    return await DuckDBInstance.create(path, config);
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!;
    const hint = /lock/i.test(message)
      ? '; a running store holds it: stop the store or export with --url'
      : '';
    throw new Error(`cannot open ${path} read-only: ${message}${hint}`, { cause: err });
  }
}
