/**
 * cc-event-export: writes a time range of events or logs to a Parquet or CSV file with
 * DuckDB's writers, from a running store's API or from a DuckDB database file.
 */
import { mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { parseExportArgs, USAGE, UsageError, type ExportArgs } from './args.ts';
import { downloadExport } from './from-api.ts';
import { exportFromDuckDb } from './from-duckdb.ts';
import { createProgress } from './progress.ts';

/** The streams the tool uses (the process's, or a test's). */
export interface ExportIo {
  stdout: Writable;
  stderr: NodeJS.WriteStream;
}

/** Runs the tool; resolves to the exit code (0 exported, 1 failed, 2 usage). */
export async function main(argv: string[], io: ExportIo): Promise<number> {
  let args: ExportArgs;
  try {
    args = parseExportArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`cc-event-export: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  try {
    io.stdout.write(`${await exportTo(args, io.stderr)}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`cc-event-export: ${(err as Error).message}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

// The file is written in a temp folder beside --out and renamed into place, so a failed or
// interrupted export never leaves a partial file under the wanted name.
async function exportTo(args: ExportArgs, stderr: NodeJS.WriteStream): Promise<string> {
  const out = resolve(args.out);
  const tmp = mkdtempSync(join(dirname(out), '.cc-event-export-'));
  const file = join(tmp, basename(out));
  try {
    let what: string;
    if (args.url !== undefined) {
      const progress = createProgress(stderr, 'downloading', 'bytes');
      try {
        await downloadExport(args, file, progress);
      } finally {
        progress.stop();
      }
      what = `${args.kind}s`;
    } else {
      const progress = createProgress(stderr, 'exporting', '%');
      let rows: number;
      try {
        rows = await exportFromDuckDb(args, file, progress);
      } finally {
        progress.stop();
      }
      what = `${rows} ${args.kind}${rows === 1 ? '' : 's'}`;
    }
    renameSync(file, out);
    return `exported ${what} to ${args.out} (${args.format}, ${statSync(out).size} bytes)`;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
