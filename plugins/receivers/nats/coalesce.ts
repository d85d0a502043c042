/**
 * Hands several NATS messages to ingest as one input. One ingest call has a fixed cost, so
 * many one-line messages (the usual shape: one event a message) go faster joined. Only
 * messages that decode without error are joined: an unterminated string in one message
 * must not swallow the next, and a message with errors keeps its own line numbers.
 */
import type { IngestOptions, ReceiverContext } from '../../../core/contracts/receiver.ts';
import { decode } from '../../../core/lineproto/index.ts';

/** The outcome of one message: `undefined` when ingest took it, else the error. */
export type MessageOutcome = unknown;

const LF = 10;
const CR = 13;

/**
 * Ingests `bodies` (messages of one subscription and cluster) and resolves with one outcome
 * per body, in order. Well-formed bodies go as one input; the others go alone.
 */
export async function ingestMessages(
  ingest: ReceiverContext['ingest'],
  bodies: readonly Buffer[],
  opts: IngestOptions,
): Promise<MessageOutcome[]> {
  if (bodies.length === 1) return [await outcome(ingest(bodies[0]!, opts))];

  const joined: number[] = [];
  const alone: number[] = [];
  bodies.forEach((b, i) => (joinable(b) ? joined : alone).push(i));
  const out = new Array<MessageOutcome>(bodies.length);
  const runs = alone.map(async (i) => (out[i] = await outcome(ingest(bodies[i]!, opts))));
  if (joined.length > 0) {
    runs.push(
      outcome(ingest(join(joined.map((i) => bodies[i]!)), opts)).then((o) => {
        for (const i of joined) out[i] = o;
      }),
    );
  }
  await Promise.all(runs);
  return out;
}

/** Whether a body can share an input: it decodes cleanly and ends where a line may. */
export function joinable(body: Buffer): boolean {
  if (body.length === 0 || body[body.length - 1] === CR) return false;
  return decode(body, { now: 0n }).errors.length === 0;
}

function join(bodies: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const b of bodies) {
    parts.push(b);
    if (b[b.length - 1] !== LF) parts.push(NEWLINE);
  }
  return Buffer.concat(parts);
}

const NEWLINE = Buffer.from('\n');

async function outcome(p: Promise<unknown>): Promise<MessageOutcome> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err ?? new Error('ingest failed');
  }
}
