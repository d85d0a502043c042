/**
 * Types of the line-protocol codec's API.
 */
import type { Message } from '../message.ts';
import type { Precision } from '../time.ts';

/** One refused entry. */
export interface DecodeError {
  /** Physical line (1-based) where the entry starts. */
  line: number;
  /**
   * 1-based position of the problem in bytes, counted from the start of the entry's first
   * line (for an entry on one line: its column).
   */
  column: number;
  /** Short reason, such as 'empty tag value' or 'timestamp out of range'. */
  reason: string;
  /** The entry's text up to the line end where decoding resumed, at most 64 KiB. */
  raw: string;
}

/** How to decode. */
export interface DecodeOptions {
  /**
   * Unit of the timestamps. Default `auto` guesses by magnitude (see `toNanos`): below 1e11
   * seconds, below 1e14 ms, below 1e17 µs, else ns. A time that does not fit int64 ns after
   * scaling is refused with 'timestamp out of range'.
   */
  precision?: Precision;
  /** Time (ns) for entries without a timestamp; default the time `decode` is called. */
  now?: bigint;
}

/** Good entries and refused ones, each in input order. */
export interface DecodeResult {
  messages: Message[];
  errors: DecodeError[];
}

/** Precisions the encoder can write. */
export type EncodePrecision = Exclude<Precision, 'auto'>;
