/**
 * Text validity for the decoder. An input that is valid as a whole (the common case, checked
 * natively at once) needs nothing more; otherwise every entry is checked on its own, so one
 * bad byte costs one entry.
 */
import { isUtf8 } from 'node:buffer';

function isContinuation(b: number | undefined): boolean {
  return b !== undefined && b >= 0x80 && b <= 0xbf;
}

/** Index of the first byte of `buf[a, b)` that starts an invalid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(buf: Buffer, a: number, b: number): number {
  if (isUtf8(buf.subarray(a, b))) return -1;
  let i = a;
  while (i < b) {
    const c = buf[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) need = 2;
    else if (c >= 0xf0 && c <= 0xf4) need = 3;
    else return i;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f;
    else if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
    const second = buf[i + 1];
    if (i + need >= b || second === undefined || second < lo || second > hi) return i;
    for (let k = 2; k <= need; k++) if (!isContinuation(buf[i + k])) return i;
    i += need + 1;
  }
  return -1;
}

/** True when a string holds no lone surrogate, so it can be written as UTF-8. */
export function isWellFormed(s: string): boolean {
  // String.prototype.isWellFormed exists from Node 20 on; the TypeScript lib here predates it.
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Encodes a string that holds lone surrogates as UTF-8, writing each lone surrogate as the
 * three bytes it would take if it were a code point (ED A0..BF xx). Those bytes are invalid
 * UTF-8, so the decoder refuses exactly the entries that hold one.
 */
export function encodeWithLoneSurrogates(s: string): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (const m of s.matchAll(LONE_SURROGATE)) {
    const c = m[0].charCodeAt(0);
    parts.push(Buffer.from(s.slice(from, m.index), 'utf8'));
    parts.push(Buffer.from([0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)]));
    from = m.index + 1;
  }
  parts.push(Buffer.from(s.slice(from), 'utf8'));
  return Buffer.concat(parts);
}
