/**
 * Hands several NATS messages to ingest as one input. One ingest call has a fixed cost, so
 * many one-line messages (the usual shape: one event a message) go faster together. Each
 * message is a part of its own: decoded alone, so an unterminated string in one message
 * cannot swallow the next, and its errors count lines within the message.
 */
import type { IngestOptions, ReceiverContext } from '../../../core/contracts/receiver.ts';

/**
 * Ingests `bodies` (messages of one subscription and cluster) as one input; resolves with
 * `undefined` when ingest took them all, else with its error (then none counts as taken).
 */
export async function ingestMessages(
  ingest: ReceiverContext['ingest'],
  bodies: readonly Buffer[],
  opts: IngestOptions,
): Promise<unknown> {
  try {
    await ingest(bodies.length === 1 ? bodies[0]! : bodies, opts);
    return undefined;
  } catch (err) {
    return err ?? new Error('ingest failed');
  }
}
