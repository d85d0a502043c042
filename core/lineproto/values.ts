/**
 * Parsing of unquoted field values (floats, `Ni`, `Nu`, booleans) and timestamps. A failed
 * parse returns undefined and leaves the reason in {@link valueError}.
 */
import type { FieldValue } from '../message.ts';
import { Uint } from '../message.ts';

/** Why the last parse in this module failed. */
export const valueError = { reason: '' };

/** Largest signed 64-bit integer. */
export const INT64_MAX = 9223372036854775807n;
/** Smallest signed 64-bit integer. */
export const INT64_MIN = -9223372036854775808n;
/** Largest unsigned 64-bit integer. */
export const UINT64_MAX = 18446744073709551615n;

// Any decimal with more significant digits than this exceeds every 64-bit range.
const TOO_BIG = UINT64_MAX + 1n;

function fail(reason: string): undefined {
  valueError.reason = reason;
  return undefined;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** True when `s[a, b)` is non-empty and all decimal digits. */
function allDigits(s: string, a: number, b: number): boolean {
  if (a >= b) return false;
  for (let i = a; i < b; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/**
 * The value of the decimal digits `s[a, b)`; {@link TOO_BIG} when it has more than 20
 * significant digits. Short numbers go through a float, which is exact below 2^53.
 */
function digitsValue(s: string, a: number, b: number): bigint {
  while (a < b - 1 && s.charCodeAt(a) === 48) a++;
  const len = b - a;
  if (len <= 15) {
    let v = 0;
    for (let i = a; i < b; i++) v = v * 10 + s.charCodeAt(i) - 48;
    return BigInt(v);
  }
  if (len > 20) return TOO_BIG;
  return BigInt(s.slice(a, b));
}

/** A signed integer `-?[0-9]+` in `s[a, b)`, or undefined when it is malformed. */
function signedValue(s: string, a: number, b: number): bigint | undefined {
  const negative = s.charCodeAt(a) === 45;
  const from = negative ? a + 1 : a;
  if (!allDigits(s, from, b)) return undefined;
  const v = digitsValue(s, from, b);
  return negative ? -v : v;
}

/** Parses `-?[0-9]+` as an int64 (the `i` suffix already removed). */
function parseInt64(s: string, a: number, b: number): bigint | undefined {
  const v = signedValue(s, a, b);
  if (v === undefined) return fail('invalid integer value');
  if (v > INT64_MAX || v < INT64_MIN) return fail('value out of range');
  return v;
}

/** Parses `[0-9]+` as a uint64 (the `u` suffix already removed). */
function parseUint64(s: string, a: number, b: number): Uint | undefined {
  if (!allDigits(s, a, b)) return fail('invalid unsigned integer value');
  const v = digitsValue(s, a, b);
  if (v > UINT64_MAX) return fail('value out of range');
  return new Uint(v);
}

/**
 * Parses a decimal float: `-?(digits[.digits?]|.digits)([eE][+-]?digits)?`. No NaN, no
 * infinity, no hexadecimal; a value that overflows a double is out of range.
 */
function parseFloat64(s: string, a: number, b: number): number | undefined {
  let i = s.charCodeAt(a) === 45 ? a + 1 : a;
  const intStart = i;
  while (i < b && isDigit(s.charCodeAt(i))) i++;
  let mantissaDigits = i - intStart;
  if (i < b && s.charCodeAt(i) === 46) {
    const fracStart = ++i;
    while (i < b && isDigit(s.charCodeAt(i))) i++;
    mantissaDigits += i - fracStart;
  }
  if (mantissaDigits === 0) return fail('invalid float value');
  if (i < b && (s.charCodeAt(i) | 32) === 101) {
    i++;
    const sign = s.charCodeAt(i);
    if (sign === 43 || sign === 45) i++;
    if (!allDigits(s, i, b)) return fail('invalid float value');
    i = b;
  }
  if (i !== b) return fail('invalid float value');
  const v = Number(s.slice(a, b));
  return Number.isFinite(v) ? v : fail('value out of range');
}

function parseBoolean(word: string): boolean | undefined {
  switch (word) {
    case 't':
    case 'T':
    case 'true':
    case 'True':
    case 'TRUE':
      return true;
    case 'f':
    case 'F':
    case 'false':
    case 'False':
    case 'FALSE':
      return false;
    default:
      return fail('invalid boolean value');
  }
}

/**
 * Parses the unquoted field value `s[a, b)` (non-empty): a number without suffix is a
 * float, `i` marks an int64 (bigint), `u` a uint64 ({@link Uint}); words starting with
 * t, T, f or F are booleans. Anything else has no recognized type.
 */
export function parseScalar(s: string, a: number, b: number): FieldValue | undefined {
  const c = s.charCodeAt(a);
  if (c === 116 || c === 84 || c === 102 || c === 70) return parseBoolean(s.slice(a, b));
  if (c === 45 || c === 46 || isDigit(c)) {
    const last = s.charCodeAt(b - 1);
    if (last === 105) return parseInt64(s, a, b - 1);
    if (last === 117) return parseUint64(s, a, b - 1);
    return parseFloat64(s, a, b);
  }
  return fail('field value has unrecognized type');
}

/**
 * Parses the timestamp `s[a, b)` as written (before any precision scaling): an integer that
 * fits int64, else 'timestamp out of range'; anything but `-?[0-9]+` is 'invalid timestamp'.
 */
export function parseTimestamp(s: string, a: number, b: number): bigint | undefined {
  const v = signedValue(s, a, b);
  if (v === undefined) return fail('invalid timestamp');
  if (v > INT64_MAX || v < INT64_MIN) return fail('timestamp out of range');
  return v;
}
