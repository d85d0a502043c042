/**
 * Sends a whole line-protocol file in chunks. Chunks only break where an entry starts (the
 * local decode tells where), because a string field may span physical lines.
 */
import cliProgress from 'cli-progress';
import { decode } from '../../core/lineproto/index.ts';
import type { ChunkReply, Refused, Transport } from './transport.ts';

/** One chunk: bytes, first physical line, entries in it. */
export interface Chunk {
  body: Buffer;
  firstLine: number;
  entries: number;
}

/** Totals of a file send. */
export interface SendSummary {
  bytes: number;
  chunks: number;
  entries: number;
  /** Entries the destination took (stored, duplicates and skipped alike). */
  accepted: number;
  stored?: number;
  duplicates?: number;
  skipped?: number;
  refused: Refused[];
  refusedCount: number;
  /** Entries the client's own decode finds malformed (what a NATS receiver will reject). */
  localErrors: Refused[];
}

/** Splits `data` into chunks of at most `max` bytes (an entry larger than that goes alone). */
export function splitChunks(
  data: Buffer,
  max: number,
): { chunks: Chunk[]; localErrors: Refused[] } {
  const { messages, errors } = decode(data, { now: 0n });
  const starts = new Set<number>();
  for (const m of messages) starts.add(m.line!);
  for (const e of errors) starts.add(e.line);
  const chunks: Chunk[] = [];
  let chunkStart = 0;
  let chunkLine = 1;
  let entries = 0;
  let pos = 0;
  for (let line = 1; pos < data.length; line++) {
    const nl = data.indexOf(10, pos);
    const end = nl === -1 ? data.length : nl + 1;
    if (starts.has(line)) {
      if (entries > 0 && end - chunkStart > max) {
        chunks.push({ body: data.subarray(chunkStart, pos), firstLine: chunkLine, entries });
        [chunkStart, chunkLine, entries] = [pos, line, 0];
      }
      entries++;
    }
    pos = end;
  }
  if (pos > chunkStart)
    chunks.push({ body: data.subarray(chunkStart, pos), firstLine: chunkLine, entries });
  const localErrors = errors.map((e) => ({ line: e.line, column: e.column, reason: e.reason }));
  return { chunks, localErrors };
}

/** Sends every chunk in turn; a progress bar goes to `stderr` when it is a terminal. */
export async function sendChunks(
  chunks: Chunk[],
  transport: Transport,
  stderr: NodeJS.WriteStream,
): Promise<Omit<SendSummary, 'localErrors'>> {
  const total = chunks.reduce((n, c) => n + c.body.length, 0);
  const bar = stderr.isTTY
    ? new cliProgress.SingleBar(
        {
          stream: stderr,
          format: 'sending [{bar}] {percentage}% | {value}/{total} bytes | {eta}s',
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0);
  const sum: Omit<SendSummary, 'localErrors'> = {
    bytes: total,
    chunks: chunks.length,
    entries: 0,
    accepted: 0,
    refused: [],
    refusedCount: 0,
  };
  try {
    for (const c of chunks) {
      const reply = await transport.send(c.body);
      sum.entries += c.entries;
      const refused = reply.refused.map((r) => ({
        ...r,
        line: r.line > 0 ? c.firstLine + r.line - 1 : 0,
      }));
      const refusedCount = reply.rejected ?? refused.length;
      sum.refused.push(...refused);
      sum.refusedCount += refusedCount;
      sum.accepted += c.entries - refusedCount;
      addCounts(sum, reply, c === chunks[0]);
      bar?.increment(c.body.length);
    }
  } finally {
    bar?.stop();
  }
  return sum;
}

/** Keeps stored/duplicate/skipped totals only while every answer reported them. */
function addCounts(sum: Omit<SendSummary, 'localErrors'>, reply: ChunkReply, first: boolean): void {
  if (reply.stored === undefined || (!first && sum.stored === undefined)) {
    sum.stored = sum.duplicates = sum.skipped = undefined;
    return;
  }
  sum.stored = (sum.stored ?? 0) + reply.stored;
  sum.duplicates = (sum.duplicates ?? 0) + (reply.duplicates ?? 0);
  sum.skipped = (sum.skipped ?? 0) + (reply.skipped ?? 0);
}

const LISTED = 20;

/** The summary text printed after a file send. */
export function formatSummary(s: SendSummary, target: string, viaNats: boolean): string {
  const out: string[] = [];
  const unit = viaNats ? 'messages' : 'requests';
  out.push(
    `${viaNats ? 'published' : 'sent'} ${s.entries} entries (${s.bytes} bytes) ` +
      `in ${s.chunks} ${unit} to ${target}`,
  );
  if (viaNats) {
    out.push('the store decodes them on arrival; entries it refuses go to its rejected store');
    if (s.localErrors.length > 0) {
      out.push(`malformed here (the store will refuse them): ${s.localErrors.length}`);
      out.push(...listRefused(s.localErrors));
    }
    return `${out.join('\n')}\n`;
  }
  const detail =
    s.stored === undefined
      ? ''
      : ` (stored ${s.stored}, duplicates ${s.duplicates}, skipped ${s.skipped})`;
  out.push(`accepted: ${s.accepted}${detail}`);
  out.push(`rejected: ${s.refusedCount}`);
  out.push(...listRefused(s.refused));
  return `${out.join('\n')}\n`;
}

function listRefused(list: Refused[]): string[] {
  const lines = list
    .slice(0, LISTED)
    .map((r) => `  line ${r.line}${r.column ? `:${r.column}` : ''}: ${r.reason}`);
  if (list.length > LISTED) lines.push(`  ... and ${list.length - LISTED} more`);
  return lines;
}
