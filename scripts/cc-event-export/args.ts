/**
 * Command line of cc-event-export: what to export (kind, time range, format), from where
 * (a running store's API or a DuckDB database file) and to which file.
 */
import { parseArgs } from 'node:util';
import { hasCode } from '../../core/errors.ts';
import { parseTime } from '../../plugins/api/rest/record-query.ts';

/** Usage text (`--help`). */
export const USAGE = `Usage: cc-event-export [options] --out <file>

Export a time range of events or logs as Parquet or CSV, written by DuckDB.

Source (one of):
  --url <base>             a running store, such as http://127.0.0.1:8098 (GET /api/v1/export;
                           its storage must be duckdb)
  --token <jwt>            token for --url (Bearer)
  --duckdb <path>          a DuckDB database file of the store, opened read-only (the store
                           holding it must be stopped: DuckDB locks the file). A SQLite
                           store's file is refused (exit 2); export it over the running
                           store's API: GET /api/v1/events?format=csv

What:
  --kind event|log         kind of records (default event)
  --from <time>            inclusive start: Unix seconds or RFC 3339 (default: the oldest)
  --to <time>              exclusive end: Unix seconds or RFC 3339 (default: the newest)
  --format parquet|csv     file format (default: from the --out extension, else parquet)
  --out <file>             output file; written in full, then renamed into place

A progress bar goes to stderr when it is a terminal.
Exit codes: 0 exported, 1 failed, 2 usage error (a SQLite file for --duckdb too).
`;

/** Thrown for a command line that cannot work; exit code 2. */
export class UsageError extends Error {}

/** Parsed command line. */
export interface ExportArgs {
  help: boolean;
  url?: string;
  token?: string;
  duckdb?: string;
  kind: 'event' | 'log';
  /** Range in ns; `from` inclusive, `to` exclusive. */
  from?: bigint;
  to?: bigint;
  format: 'parquet' | 'csv';
  out: string;
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  url: { type: 'string' },
  token: { type: 'string' },
  duckdb: { type: 'string' },
  kind: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string', short: 'o' },
} as const;

/** Parses and checks the arguments; throws {@link UsageError}. */
export function parseExportArgs(argv: string[]): ExportArgs {
  let v: ReturnType<typeof parse>['values'];
  try {
    v = parse(argv).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (v.help === true) return { help: true, kind: 'event', format: 'parquet', out: '' };
  if ((v.url === undefined) === (v.duckdb === undefined)) {
    throw new UsageError('give one source: --url <base> or --duckdb <path>');
  }
  if (v.url !== undefined && !/^https?:\/\/[^/]/.test(v.url)) {
    throw new UsageError('--url needs a URL such as http://127.0.0.1:8098');
  }
  if (v.token !== undefined && v.url === undefined) throw new UsageError('--token needs --url');
  if (!v.out) throw new UsageError('--out <file> is required');
  if (v.kind !== undefined && v.kind !== 'event' && v.kind !== 'log') {
    throw new UsageError(`--kind "${v.kind}" is not event or log`);
  }
  const args: ExportArgs = {
    help: false,
    url: v.url?.replace(/\/+$/, ''),
    token: v.token,
    duckdb: v.duckdb,
    kind: v.kind ?? 'event',
    from: v.from === undefined ? undefined : timeOf(v.from, '--from'),
    to: v.to === undefined ? undefined : timeOf(v.to, '--to'),
    format: formatOf(v.format, v.out),
    out: v.out,
  };
  if (args.from !== undefined && args.to !== undefined && args.from >= args.to) {
    throw new UsageError('--from must be before --to');
  }
  return args;
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
}

function timeOf(text: string, flag: string): bigint {
  try {
    return parseTime(text, 's', flag);
  } catch (err) {
    if (!hasCode(err, 'CCES_ERR_QUERY_INVALID')) throw err;
    throw new UsageError((err as Error).message);
  }
}

function formatOf(format: string | undefined, out: string): ExportArgs['format'] {
  if (format === 'parquet' || format === 'csv') return format;
  if (format !== undefined) throw new UsageError(`--format "${format}" is not parquet or csv`);
  return /\.csv$/i.test(out) ? 'csv' : 'parquet';
}
