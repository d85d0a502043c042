/**
 * Command line of cc-event-client: what to send (one event or log, or a line-protocol file)
 * and where (NATS or HTTP).
 */
import { parseArgs } from 'node:util';

/** Usage text (`--help`). */
export const USAGE = `Usage: cc-event-client [options]

Send one event or log:
  --name <measurement>     measurement name (required)
  --event <payload>        send an event; payload "-" reads stdin
  --log <payload>          send a log; payload "-" reads stdin
  --file <path>            read the payload from a file ("-" is stdin); with --kind
  --kind event|log         kind of a --file payload (default event)
  --tag <key=value>        a tag (repeatable; a key given twice must have one value)
  --cluster <name>         cluster tag (same as --tag cluster=<name>)
  --hostname <name>        hostname tag (same as --tag hostname=<name>)
  --time <int>             timestamp in --precision units (default now)
  --precision s|ms|us|ns   timestamp precision (default ns)
  --print                  print the encoded line and exit without sending

Send a whole line-protocol file:
  --send-file <path>       send the file in chunks, with a progress bar on a terminal
  --chunk-size <bytes>     bytes per request or message (default 262144)

Destination (one of):
  --nats <url>             NATS server, such as nats://localhost:4222
  --subject <subject>      NATS subject (required with --nats)
  --user <u> --password <p> | --creds <file> | --nkey <file>   NATS credentials
  --http <url>             write endpoint, such as http://localhost:8098/api/write
  --token <token>          JWT for HTTP (Bearer), or NATS auth token

Exit codes:
  0  sent, and every entry accepted (--print: printed)
  1  not sent (server away, file unreadable), or entries refused; with --send-file
     over NATS, entries malformed here (the store will refuse them) count as refused
  2  usage error: a command line that cannot work, such as a missing or empty value,
     or a tag given two different values
`;

/** Thrown for a command line that cannot work; exit code 2. */
export class UsageError extends Error {}

/** Parsed command line. */
export interface ClientArgs {
  help: boolean;
  print: boolean;
  name?: string;
  kind?: 'event' | 'log';
  payload?: string;
  file?: string;
  tags: Record<string, string>;
  time?: bigint;
  precision: 's' | 'ms' | 'us' | 'ns';
  /** Whether --precision was given (a file is otherwise read with precision `auto`). */
  precisionGiven: boolean;
  sendFile?: string;
  chunkSize: number;
  nats?: string;
  subject?: string;
  user?: string;
  password?: string;
  creds?: string;
  nkey?: string;
  http?: string;
  token?: string;
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  print: { type: 'boolean' },
  name: { type: 'string' },
  event: { type: 'string' },
  log: { type: 'string' },
  file: { type: 'string' },
  kind: { type: 'string' },
  tag: { type: 'string', multiple: true },
  // Repeatable so that two different values are refused rather than the last one kept.
  cluster: { type: 'string', multiple: true },
  hostname: { type: 'string', multiple: true },
  time: { type: 'string' },
  precision: { type: 'string' },
  'send-file': { type: 'string' },
  'chunk-size': { type: 'string' },
  nats: { type: 'string' },
  subject: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  creds: { type: 'string' },
  nkey: { type: 'string' },
  http: { type: 'string' },
  token: { type: 'string' },
} as const;

/** Parses and checks the arguments; throws {@link UsageError}. */
export function parseClientArgs(argv: string[]): ClientArgs {
  let v: ReturnType<typeof parse>['values'];
  try {
    v = parse(argv).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const args: ClientArgs = {
    help: v.help === true,
    print: v.print === true,
    name: v.name,
    tags: parseTags(v.tag ?? []),
    precision: parsePrecision(v.precision ?? 'ns'),
    precisionGiven: v.precision !== undefined,
    chunkSize: parseCount(v['chunk-size'] ?? '262144', '--chunk-size'),
    sendFile: v['send-file'],
    nats: v.nats,
    subject: v.subject,
    user: v.user,
    password: v.password,
    creds: v.creds,
    nkey: v.nkey,
    http: v.http,
    token: v.token,
  };
  for (const c of v.cluster ?? []) addTag(args.tags, 'cluster', nonEmpty(c, '--cluster'));
  for (const h of v.hostname ?? []) addTag(args.tags, 'hostname', nonEmpty(h, '--hostname'));
  if (v.time !== undefined) args.time = parseTime(v.time);
  if (args.help) return args;
  pickPayload(args, v);
  checkDestination(args);
  return args;
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
}

function pickPayload(args: ClientArgs, v: ReturnType<typeof parse>['values']): void {
  const given = [v.event, v.log, v.file].filter((x) => x !== undefined).length;
  if (args.sendFile !== undefined) {
    if (given > 0 || args.print)
      throw new UsageError(
        '--send-file sends a file as it is; drop --event, --log, --file and --print',
      );
    return;
  }
  if (given !== 1)
    throw new UsageError('give exactly one of --event, --log, --file or --send-file');
  if (!args.name) throw new UsageError('--name is required');
  if (v.event !== undefined) [args.kind, args.payload] = ['event', v.event];
  else if (v.log !== undefined) [args.kind, args.payload] = ['log', v.log];
  else {
    if (v.kind !== undefined && v.kind !== 'event' && v.kind !== 'log') {
      throw new UsageError('--kind is event or log');
    }
    args.kind = (v.kind as 'event' | 'log' | undefined) ?? 'event';
    args.file = v.file;
  }
  if (args.payload === '-') [args.payload, args.file] = [undefined, '-'];
}

function checkDestination(args: ClientArgs): void {
  if (args.print) return;
  if ((args.nats === undefined) === (args.http === undefined)) {
    throw new UsageError('give one destination: --nats <url> or --http <url>');
  }
  if (args.nats !== undefined && !args.subject) throw new UsageError('--nats needs --subject');
  if (args.http !== undefined && !/^https?:\/\//.test(args.http)) {
    throw new UsageError('--http needs a URL such as http://localhost:8098/api/write');
  }
}

function parseTags(list: string[]): Record<string, string> {
  const tags: Record<string, string> = Object.create(null);
  for (const t of list) {
    const eq = t.indexOf('=');
    if (eq <= 0 || eq === t.length - 1) throw new UsageError(`--tag "${t}" is not key=value`);
    addTag(tags, t.slice(0, eq), t.slice(eq + 1));
  }
  return tags;
}

// A tag given twice (two --tag, or --tag and --cluster/--hostname) must agree: keeping either
// value would drop the other without a word.
function addTag(tags: Record<string, string>, key: string, value: string): void {
  const had = tags[key];
  if (had !== undefined && had !== value) {
    throw new UsageError(`tag "${key}" is given twice, as "${had}" and as "${value}"`);
  }
  tags[key] = value;
}

function nonEmpty(value: string, flag: string): string {
  if (value === '') throw new UsageError(`${flag} needs a non-empty value`);
  return value;
}

function parsePrecision(p: string): ClientArgs['precision'] {
  if (p === 's' || p === 'ms' || p === 'us' || p === 'ns') return p;
  throw new UsageError(`--precision "${p}" is not one of s, ms, us, ns`);
}

function parseTime(t: string): bigint {
  if (!/^-?[0-9]+$/.test(t)) throw new UsageError(`--time "${t}" is not an integer`);
  return BigInt(t);
}

function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} "${text}" is not a positive integer`);
  return n;
}
