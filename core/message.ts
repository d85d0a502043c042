/**
 * The decoded form of one line-protocol entry, and how ClusterCockpit classifies it.
 */

/** An unsigned 64-bit integer field value (`12u`), kept apart from signed ones for encoding. */
export class Uint {
  constructor(readonly value: bigint) {}
}

/**
 * A field value: float (`number`), signed 64-bit integer (`bigint`, written `12i`),
 * unsigned 64-bit integer ({@link Uint}), boolean or string.
 */
export type FieldValue = number | bigint | Uint | boolean | string;

/** One decoded entry. Tags and fields are plain objects with a null prototype. */
export interface Message {
  /** The measurement. */
  name: string;
  tags: Record<string, string>;
  fields: Record<string, FieldValue>;
  /** Nanoseconds since the Unix epoch, exact. */
  time: bigint;
  /** Physical line (1-based) where the entry starts in its input, when decoded from text. */
  line?: number;
}

/** What a message is, as ClusterCockpit's message types define it. */
export type MessageKind = 'event' | 'log' | 'metric' | 'control' | 'query' | 'other';

/**
 * Classifies a message. A string `event` field makes an event even when a `value` field is
 * present too (upstream stores such lines as events); then a string `log` field makes a log.
 */
export function classifyMessage(msg: Message): MessageKind {
  const f = msg.fields;
  if (typeof f.event === 'string') return 'event';
  if (typeof f.log === 'string') return 'log';
  if ('value' in f && typeof f.value !== 'string' && typeof f.value !== 'boolean') return 'metric';
  const method = msg.tags.method;
  if (typeof f.control === 'string' && (method === 'GET' || method === 'PUT')) return 'control';
  if (typeof f.query === 'string') return 'query';
  return 'other';
}
