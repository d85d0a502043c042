/**
 * The line-protocol encoder: writes one entry per message that the decoder reads back to the
 * same message, or throws `CCES_ERR_LP_ENCODE` when no such entry exists.
 */
import { createError } from '../errors.ts';
import type { FieldValue, Message } from '../message.ts';
import { PRECISIONS } from '../time.ts';
import { isWellFormed } from './text-check.ts';
import type { EncodePrecision } from './types.ts';
import { INT64_MAX, INT64_MIN, UINT64_MAX } from './values.ts';

const FACTOR: Record<EncodePrecision, bigint> = {
  s: 1_000_000_000n,
  ms: 1_000_000n,
  us: 1_000n,
  ns: 1n,
};

const CONTROL = /[\x00-\x1f\x7f]/;
// Text with none of these characters needs neither checks nor escapes (most names and values).
const PLAIN_NAME = /^[^\x00-\x1f\x7f,= \\\ud800-\udfff]+$/;
const PLAIN_STRING = /^[^"\\\n\r\t\ud800-\udfff]*$/;
const MEASUREMENT_SPECIAL = /[, ]/g;
const KEY_SPECIAL = /[,= ]/g;
const STRING_SPECIAL = /["\\\n\r\t]/g;
const STRING_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

function unencodable(sentence: string, details: Record<string, unknown>): Error {
  return createError('CCES_ERR_LP_ENCODE', sentence, details);
}

/**
 * Escapes a measurement, key or tag value. Backslashes stay as they are (the decoder reads a
 * backslash before a character it does not escape literally), so a trailing backslash cannot
 * be written: it would escape the delimiter that follows.
 */
function escapeName(text: unknown, what: string, special: RegExp): string {
  if (typeof text === 'string' && PLAIN_NAME.test(text)) return text;
  if (typeof text !== 'string' || text === '') {
    throw unencodable(`a ${what} must be a non-empty string`, { what, text });
  }
  if (CONTROL.test(text) || !isWellFormed(text)) {
    throw unencodable(`a ${what} cannot hold control characters or lone surrogates`, {
      what,
      text,
    });
  }
  if (text.endsWith('\\')) {
    throw unencodable(`a ${what} cannot end with a backslash`, { what, text });
  }
  return text.replace(special, '\\$&');
}

function formatString(value: string, key: string): string {
  if (PLAIN_STRING.test(value)) return `"${value}"`;
  if (!isWellFormed(value)) {
    throw unencodable('a string field value cannot hold lone surrogates', { key });
  }
  return `"${value.replace(STRING_SPECIAL, (ch) => STRING_ESCAPES[ch]!)}"`;
}

function formatValue(value: FieldValue, key: string): string {
  switch (typeof value) {
    case 'string':
      return formatString(value, key);
    case 'number':
      if (!Number.isFinite(value)) {
        throw unencodable('a float field value must be finite', { key, value: String(value) });
      }
      // String() finds the shortest text that reads back to the same double; it drops -0's sign.
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      if (value > INT64_MAX || value < INT64_MIN) {
        throw unencodable('an integer field value is outside int64', { key, value: `${value}` });
      }
      return `${value}i`;
    case 'boolean':
      return value ? 'true' : 'false';
    default: {
      const v = (value as { value?: unknown } | null)?.value;
      if (typeof v !== 'bigint' || v < 0n || v > UINT64_MAX) {
        throw unencodable('a field value has no line-protocol type', { key });
      }
      return `${v}u`;
    }
  }
}

function formatTime(time: bigint, precision: EncodePrecision): string {
  if (typeof time !== 'bigint' || time > INT64_MAX || time < INT64_MIN) {
    throw unencodable('a time must be a bigint within int64 nanoseconds', { time: `${time}` });
  }
  const factor = FACTOR[precision];
  if (time % factor !== 0n) {
    throw unencodable(`the time ${time} ns is not a whole number of ${precision}`, {
      time: `${time}`,
      precision,
    });
  }
  return `${time / factor}`;
}

/**
 * Writes a message as one line-protocol entry without a line end: tags sorted by key, fields
 * in their order, time in `precision` (default ns; a coarser precision must divide the time
 * exactly). Decoding the entry with the same precision gives the message back. Throws
 * `CCES_ERR_LP_ENCODE` for what line protocol cannot hold: no fields, an empty or
 * backslash-ended name, key or tag value, a measurement starting with `#`, control characters
 * outside strings, NaN or infinite floats, integers out of range.
 */
export function encode(msg: Message, precision: EncodePrecision = 'ns'): string {
  if (!Object.hasOwn(FACTOR, precision)) {
    throw createError('CCES_ERR_LP_PRECISION', `unknown timestamp precision "${precision}"`, {
      precision,
      known: PRECISIONS.filter((p) => p !== 'auto'),
    });
  }
  if (typeof msg.name === 'string' && msg.name.startsWith('#')) {
    throw unencodable('a measurement cannot start with "#" (the line would be a comment)', {
      name: msg.name,
    });
  }
  let out = escapeName(msg.name, 'measurement', MEASUREMENT_SPECIAL);
  for (const key of Object.keys(msg.tags).sort()) {
    const value = escapeName(msg.tags[key], 'tag value', KEY_SPECIAL);
    out += `,${escapeName(key, 'tag key', KEY_SPECIAL)}=${value}`;
  }

  let separator = ' ';
  for (const key of Object.keys(msg.fields)) {
    const value = formatValue(msg.fields[key]!, key);
    out += `${separator}${escapeName(key, 'field key', KEY_SPECIAL)}=${value}`;
    separator = ',';
  }
  if (separator === ' ')
    throw unencodable('a message needs at least one field', { name: msg.name });
  return `${out} ${formatTime(msg.time, precision)}`;
}
