/**
 * cc-event-client: sends one event or log, or a whole line-protocol file, to the store over
 * NATS or HTTP, as ClusterCockpit's test client does.
 */
import { readFileSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { hasCode } from '../../core/errors.ts';
import { encode } from '../../core/lineproto/index.ts';
import type { Message } from '../../core/message.ts';
import { nowNanos } from '../../core/time.ts';
import { parseClientArgs, USAGE, UsageError, type ClientArgs } from './args.ts';
import { formatSummary, sendChunks, splitChunks } from './send-file.ts';
import { HttpTransport, NatsTransport, type Transport } from './transport.ts';

/** The streams the client uses (the process's, or a test's). */
export interface ClientIo {
  stdout: Writable;
  stderr: NodeJS.WriteStream;
  stdin: Readable;
}

const FACTOR = { s: 1_000_000_000n, ms: 1_000_000n, us: 1_000n, ns: 1n } as const;

/** Runs the client; resolves to the exit code (0 ok, 1 failure or refusal, 2 usage; see USAGE). */
export async function main(argv: string[], io: ClientIo): Promise<number> {
  let args: ClientArgs;
  try {
    args = parseClientArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageError(io, err.message);
  }
  if (args.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  try {
    return args.sendFile !== undefined ? await sendFile(args, io) : await sendOne(args, io);
  } catch (err) {
    // Only a single entry is encoded (a --send-file file goes as it is), from the values on
    // the command line: one line protocol cannot hold is a usage error.
    if (hasCode(err, 'CCES_ERR_LP_ENCODE')) return usageError(io, (err as Error).message);
    io.stderr.write(`cc-event-client: ${(err as Error).message}\n`);
    return 1;
  }
}

function usageError(io: ClientIo, reason: string): number {
  io.stderr.write(`cc-event-client: ${reason}\n\n${USAGE}`);
  return 2;
}

async function sendOne(args: ClientArgs, io: ClientIo): Promise<number> {
  const line = buildLine(args, await readPayload(args, io.stdin));
  if (args.print) {
    io.stdout.write(`${line}\n`);
    return 0;
  }
  const transport = await openTransport(args);
  try {
    const reply = await transport.send(Buffer.from(`${line}\n`));
    if (reply.refused.length === 0) return 0;
    for (const r of reply.refused) io.stderr.write(`cc-event-client: refused: ${r.reason}\n`);
    return 1;
  } finally {
    await transport.close();
  }
}

async function sendFile(args: ClientArgs, io: ClientIo): Promise<number> {
  const data = readFileSync(args.sendFile!);
  const transport = await openTransport(args);
  let summary;
  try {
    const max = Math.min(args.chunkSize, transport.maxChunk());
    const { chunks, localErrors } = splitChunks(data, max);
    summary = { ...(await sendChunks(chunks, transport, io.stderr)), localErrors };
  } finally {
    await transport.close();
  }
  const viaNats = args.nats !== undefined;
  io.stdout.write(formatSummary(summary, transport.target, viaNats));
  // Over NATS nothing answers; what the local decode finds malformed, the store will refuse.
  const refused = summary.refusedCount + (viaNats ? summary.localErrors.length : 0);
  return refused > 0 ? 1 : 0;
}

/** The encoded entry of a single event or log. */
export function buildLine(args: ClientArgs, payload: string): string {
  const factor = FACTOR[args.precision];
  const time = args.time !== undefined ? args.time * factor : (nowNanos() / factor) * factor;
  const msg: Message = {
    name: args.name!,
    tags: args.tags,
    fields: { [args.kind!]: payload },
    time,
  };
  return encode(msg, args.precision);
}

async function readPayload(args: ClientArgs, stdin: Readable): Promise<string> {
  if (args.file === undefined) return args.payload!;
  const text = args.file === '-' ? await readAll(stdin) : readFileSync(args.file, 'utf8');
  // A file or pipe usually ends with a line end that is not part of the payload.
  return text.replace(/\r?\n$/, '');
}

async function readAll(stream: Readable): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

async function openTransport(args: ClientArgs): Promise<Transport> {
  if (args.http !== undefined) {
    const file = args.sendFile !== undefined;
    const query = {
      cluster: file ? args.tags.cluster : undefined,
      precision: !file || args.precisionGiven ? args.precision : undefined,
    };
    return new HttpTransport(args.http, query, args.token);
  }
  const url = args.nats!.includes('://') ? args.nats! : `nats://${args.nats}`;
  const t = new NatsTransport(url, args.subject!, {
    user: args.user,
    password: args.password,
    creds_file: args.creds,
    nkey_file: args.nkey,
    token: args.token,
  });
  await t.connect();
  return t;
}
