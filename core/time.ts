/**
 * Timestamps. Times are bigint nanoseconds since the Unix epoch everywhere in the store,
 * because a JS number cannot hold a nanosecond epoch exactly.
 */
import { impossibleDateTime } from './calendar.ts';

/** A timestamp precision a writer may state; `auto` guesses by magnitude. */
export type Precision = 's' | 'ms' | 'us' | 'ns' | 'auto';

/** All precisions, for schemas and error messages. */
export const PRECISIONS: readonly Precision[] = ['s', 'ms', 'us', 'ns', 'auto'];

const FACTOR: Record<Exclude<Precision, 'auto'>, bigint> = {
  s: 1_000_000_000n,
  ms: 1_000_000n,
  us: 1_000n,
  ns: 1n,
};

/**
 * Converts a raw timestamp to nanoseconds. `auto` reads |t| < 1e11 as seconds, < 1e14 as
 * milliseconds, < 1e17 as microseconds and anything larger as nanoseconds.
 */
export function toNanos(raw: bigint, precision: Precision): bigint {
  if (precision !== 'auto') return raw * FACTOR[precision];
  const abs = raw < 0n ? -raw : raw;
  if (abs < 100_000_000_000n) return raw * FACTOR.s;
  if (abs < 100_000_000_000_000n) return raw * FACTOR.ms;
  if (abs < 100_000_000_000_000_000n) return raw * FACTOR.us;
  return raw;
}

/** The current time in nanoseconds since the epoch. */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
}

/** Formats nanoseconds as RFC 3339 with as many fractional digits as needed (at most 9). */
export function formatRfc3339(ns: bigint): string {
  let sec = ns / 1_000_000_000n;
  let frac = ns % 1_000_000_000n;
  if (frac < 0n) {
    frac += 1_000_000_000n;
    sec -= 1n;
  }
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  if (frac === 0n) return `${base}Z`;
  return `${base}.${frac.toString().padStart(9, '0').replace(/0+$/, '')}Z`;
}

/**
 * Parses RFC 3339 (with up to 9 fractional digits) to nanoseconds; undefined if malformed or
 * impossible (Date.parse would roll February 30 over to March 2).
 */
export function parseRfc3339(text: string): bigint | undefined {
  const m =
    /^(\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m || impossibleDateTime(text) !== undefined) return undefined;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = BigInt((m[2] ?? '').padEnd(9, '0'));
  return BigInt(ms) * 1_000_000n + frac;
}
