/**
 * Builders of expected decoder output shared by the codec tests.
 */
import { decode, type DecodeResult } from '../../../core/lineproto/index.ts';
import type { FieldValue, Message } from '../../../core/message.ts';
import { readSample } from '../../helpers/samples.ts';

/** The time the sample tests give entries without a timestamp. */
export const NOW = 42n;

/** A copy of `obj` with a null prototype, as the decoder builds tags and fields. */
export function nul<T>(obj: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, obj);
}

/** The message the decoder should give for one entry starting on `line`. */
export function m(
  line: number,
  name: string,
  tags: Record<string, string>,
  fields: Record<string, FieldValue>,
  time: bigint,
): Message {
  return { name, tags: nul(tags), fields: nul(fields), time, line };
}

/** Decodes one sample file with {@link NOW} as the receive time. */
export function decodeSample(name: string): DecodeResult {
  return decode(readSample(name), { now: NOW });
}
