/**
 * Token scanners of the line-protocol decoder. They run once per input byte, so they read the
 * bytes directly and report side results through {@link scan} instead of allocating. Text is
 * cut from a latin1 view of the same bytes (one char per byte, so slicing is cheap) unless a
 * token holds bytes from 0x80 up; only those are decoded as UTF-8.
 */

/** Side results of the last scan: an escape seen, a byte >= 0x80 seen, raw LFs in a string. */
export const scan = { escaped: false, high: false, newlines: 0 };

const BACKSLASH = 92;

function charTable(chars: string, withControls: boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (const ch of chars) table[ch.charCodeAt(0)] = 1;
  if (withControls) {
    for (let c = 0; c < 32; c++) table[c] = 1;
    table[127] = 1;
  }
  return table;
}

/** Ends a measurement (the backslash only pauses the scan to check for an escape). */
export const MEASUREMENT_STOP = charTable(', \\', true);
/** Characters a backslash escapes in a measurement. */
export const MEASUREMENT_ESCAPES = charTable(', ', false);
/** Ends a tag key, tag value or field key. */
export const KEY_STOP = charTable(',= \\', true);
/** Characters a backslash escapes in tag keys, tag values and field keys. */
export const KEY_ESCAPES = charTable(',= ', false);

/**
 * Scans a measurement, tag key, tag value or field key from `i`; returns the index of the
 * first byte that ends it. A backslash before an escapable character takes both; any other
 * backslash is literal.
 */
export function scanToken(
  b: Uint8Array,
  i: number,
  n: number,
  stop: Uint8Array,
  escapes: Uint8Array,
): number {
  let escaped = false;
  // OR of every byte taken: from 0x80 up means the token needs UTF-8 decoding.
  let bits = 0;
  while (i < n) {
    const c = b[i]!;
    if (stop[c] === 0) {
      bits |= c;
      i++;
    } else if (c !== BACKSLASH) {
      break;
    } else if (i + 1 < n && escapes[b[i + 1]!] === 1) {
      escaped = true;
      i += 2;
    } else {
      i++;
    }
  }
  scan.escaped = escaped;
  scan.high = bits >= 128;
  return i;
}

/**
 * Scans the body of a double-quoted string from `i` (just after the opening quote); returns
 * the index of the closing quote, or -1 when the input ends first. A body without escapes is
 * only scanned; from the first escape on, the body is copied unescaped into the scratch
 * buffer, to be read with {@link scratchText}.
 */
export function scanString(b: Uint8Array, i: number, n: number): number {
  const start = i;
  let bits = 0;
  let newlines = 0;
  for (; i < n; i++) {
    const c = b[i]!;
    if (c === 34) {
      scan.escaped = false;
      scan.high = bits >= 128;
      scan.newlines = newlines;
      return i;
    }
    if (c === BACKSLASH) {
      const next = b[i + 1];
      if (next === 34 || next === 92 || next === 110 || next === 114 || next === 116) {
        return copyEscaped(b, start, i, n, bits, newlines);
      }
    } else if (c === 10) {
      newlines++;
    }
    bits |= c;
  }
  scan.newlines = newlines;
  return -1;
}

// Receives unescaped strings: copying bytes and reading them back in one call is several times
// faster than joining slices, and gives a flat string.
const SCRATCH_SIZE = 16384;
let scratch: Buffer = Buffer.allocUnsafe(SCRATCH_SIZE);
let scratchLength = 0;

function growScratch(used: number): Buffer {
  const bigger = Buffer.allocUnsafe(scratch.length * 2);
  scratch.copy(bigger, 0, 0, used);
  scratch = bigger;
  return bigger;
}

/** {@link scanString} from the first escape at `i` on: copies `b[start, ...)` unescaped. */
function copyEscaped(
  b: Uint8Array,
  start: number,
  i: number,
  n: number,
  bits: number,
  newlines: number,
): number {
  let out = scratch;
  let j = 0;
  while (j + (i - start) > out.length) out = growScratch(j);
  for (let k = start; k < i; k++) out[j++] = b[k]!;
  for (;;) {
    // Each byte read writes at most one, so up to `limit` the scratch cannot overflow.
    const limit = Math.min(n, i + out.length - j);
    for (; i < limit; i++) {
      let c = b[i]!;
      if (c === 34) break;
      if (c === BACKSLASH) {
        const next = b[i + 1]!;
        const x = next === 110 ? 10 : next === 114 ? 13 : next === 116 ? 9 : next;
        if (x !== next || next === 34 || next === BACKSLASH) {
          c = x;
          i++;
        }
      } else if (c === 10) {
        newlines++;
      }
      bits |= c;
      out[j++] = c;
    }
    if (i >= n || b[i] === 34) break;
    out = growScratch(j);
  }
  scan.escaped = true;
  scan.high = bits >= 128;
  scan.newlines = newlines;
  scratchLength = j;
  return i < n ? i : -1;
}

/** The unescaped body of the last string {@link scanString} copied. */
export function scratchText(): string {
  const text = scan.high ? utf8(scratch, 0, scratchLength) : latin1(scratch, 0, scratchLength);
  // One huge string must not pin its buffer for the life of the process.
  if (scratch.length > 64 * SCRATCH_SIZE) scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  return text;
}

/** Scans an unquoted field value: it ends at a comma, a space, LF, CR or the end. */
export function scanValue(b: Uint8Array, i: number, n: number): number {
  while (i < n) {
    const c = b[i]!;
    if (c === 44 || c === 32 || c === 10 || c === 13) break;
    i++;
  }
  return i;
}

// Buffer#latin1Slice and #utf8Slice are what toString() calls after checking its arguments;
// on short tokens those checks cost as much as the copy.
type FastSlices = {
  latin1Slice?(a: number, b: number): string;
  utf8Slice?(a: number, b: number): string;
};
const proto = Buffer.prototype as unknown as FastSlices;
const hasFastSlices =
  typeof proto.latin1Slice === 'function' && typeof proto.utf8Slice === 'function';

/** `buf[a, b)` as latin1 text (one char per byte). */
export function latin1(buf: Buffer, a: number, b: number): string {
  return hasFastSlices
    ? (buf as unknown as Required<FastSlices>).latin1Slice(a, b)
    : buf.toString('latin1', a, b);
}

/** `buf[a, b)` as UTF-8 text. */
export function utf8(buf: Buffer, a: number, b: number): string {
  return hasFastSlices
    ? (buf as unknown as Required<FastSlices>).utf8Slice(a, b)
    : buf.toString('utf8', a, b);
}

/** Reads latin1 text (one char per byte) as the UTF-8 it stands for. */
export function latin1ToUtf8(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

// Short tokens seen lately. Batches repeat their measurements, tag keys and field keys; handing
// out the same string again skips the slice and, more costly for keys, the lookup that turns a
// new string into a property name.
const CACHE_SLOTS = 256;
const tokenCache: string[] = new Array<string>(CACHE_SLOTS).fill('');

/**
 * The plain (ASCII, unescaped) token `b[a, e)` as a string equal to `s.slice(a, e)`, taken
 * from the token cache when it holds that text.
 */
export function sliceCached(b: Uint8Array, s: string, a: number, e: number): string {
  const len = e - a;
  const slot = (len * 31 + b[a]! * 7 + b[e - 1]! * 3 + b[a + (len >> 1)]!) & (CACHE_SLOTS - 1);
  const hit = tokenCache[slot]!;
  if (hit.length === len) {
    let k = 0;
    while (k < len && hit.charCodeAt(k) === b[a + k]) k++;
    if (k === len) return hit;
  }
  const token = s.slice(a, e);
  // V8 copies slices this short; a longer one would keep the whole input alive in the cache.
  if (len <= 12) tokenCache[slot] = token;
  return token;
}

const MEASUREMENT_ESCAPE_RE = /\\([, ])/g;
const KEY_ESCAPE_RE = /\\([,= ])/g;

/** The measurement `s[a, b)` of the latin1 view with its escapes resolved. */
export function unescapeMeasurement(s: string, a: number, b: number): string {
  return s.slice(a, b).replace(MEASUREMENT_ESCAPE_RE, '$1');
}

/** The tag key, tag value or field key `s[a, b)` of the latin1 view, escapes resolved. */
export function unescapeKey(s: string, a: number, b: number): string {
  return s.slice(a, b).replace(KEY_ESCAPE_RE, '$1');
}
