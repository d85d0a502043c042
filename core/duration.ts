/**
 * Go-style durations ("300ms", "10s", "1h30m", "48h"), as ClusterCockpit configs write them.
 */
import { createError } from './errors.ts';

const UNIT_NS: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};

const PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;

/**
 * Parses a duration to nanoseconds. Accepts "0" and sequences of number+unit, as Go's
 * time.ParseDuration does (without a sign). Throws `CCES_ERR_CONFIG_DURATION`.
 */
export function parseDuration(text: string): bigint {
  if (text === '0') return 0n;
  let total = 0n;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) break;
    const [whole, frac = ''] = m[1]!.split('.');
    const unit = UNIT_NS[m[2]!]!;
    total += BigInt(whole!) * unit + (BigInt(frac.padEnd(9, '0').slice(0, 9) || '0') * unit) / 1_000_000_000n;
    pos = PART.lastIndex;
  }
  if (pos !== text.length || text.length === 0) {
    throw createError(
      'CCES_ERR_CONFIG_DURATION',
      `"${text}" is not a duration; write it like "10s", "1h30m" or "48h"`,
      { value: text },
    );
  }
  return total;
}

/** Parses a duration to milliseconds (rounded down). */
export function parseDurationMs(text: string): number {
  return Number(parseDuration(text) / 1_000_000n);
}
