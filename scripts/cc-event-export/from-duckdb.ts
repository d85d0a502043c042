/**
 * Export straight from a DuckDB database file of the store, opened read-only: the store's
 * own COPY statement (see plugins/storage/duckdb/export-file.ts), with DuckDB's query
 * progress on the bar.
 */
import { existsSync } from 'node:fs';
import { DuckDBInstance, DuckDBPendingResultState } from '@duckdb/node-api';
import { buildCopySql } from '../../plugins/storage/duckdb/export-file.ts';
import type { ExportArgs } from './args.ts';
import type { Progress } from './progress.ts';

const POLL_MS = 1;

/** Writes the export of `args` into `file`; resolves to the number of records written. */
export async function exportFromDuckDb(
  args: ExportArgs,
  file: string,
  progress: Progress,
): Promise<number> {
  const path = args.duckdb!;
  if (!existsSync(path)) throw new Error(`no DuckDB database at ${path}`);
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

async function openReadOnly(path: string): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]!;
    const hint = /lock/i.test(message)
      ? '; a running store holds it: stop the store or export with --url'
      : '';
    throw new Error(`cannot open ${path} read-only: ${message}${hint}`, { cause: err });
  }
}
