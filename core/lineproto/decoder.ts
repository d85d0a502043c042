/**
 * The line-protocol decoder. It scans the input bytes and cuts text from one latin1 view of
 * them (slicing a string is far cheaper than turning Buffer ranges into strings one by one);
 * only tokens with bytes from 0x80 up are decoded as UTF-8. A bad entry becomes a
 * {@link DecodeError} and decoding resumes at the next line end, so one broken line never
 * costs the good ones.
 */
import { isUtf8 } from 'node:buffer';
import { createError } from '../errors.ts';
import type { FieldValue, Message } from '../message.ts';
import { PRECISIONS, nowNanos, toNanos } from '../time.ts';
import type { Precision } from '../time.ts';
import { MessageRecord, nullObject } from './objects.ts';
import {
  KEY_ESCAPES,
  KEY_STOP,
  MEASUREMENT_ESCAPES,
  MEASUREMENT_STOP,
  latin1,
  latin1ToUtf8,
  scan,
  scanString,
  scanToken,
  scanValue,
  scratchText,
  sliceCached,
  unescapeKey,
  unescapeMeasurement,
  utf8,
} from './tokens.ts';
import { encodeWithLoneSurrogates, firstInvalidUtf8, isWellFormed } from './text-check.ts';
import type { DecodeError, DecodeOptions, DecodeResult } from './types.ts';
import { INT64_MAX, INT64_MIN, parseScalar, parseTimestamp, valueError } from './values.ts';

const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const EQUALS = 61;

/** Longest `raw` text kept for a refused entry. */
const MAX_RAW = 65536;

const INVALID_UTF8 = 'invalid utf-8 sequence';

/**
 * Decodes line protocol. Never throws for bad input: each malformed entry is reported in
 * `errors` with the line it starts on, and every good entry is returned in `messages`. A UTF-8
 * byte order mark that starts the input is skipped; columns of the first line count after it.
 * Throws `CCES_ERR_LP_PRECISION` only for an unknown `opts.precision`.
 */
export function decode(input: Buffer | string, opts: DecodeOptions = {}): DecodeResult {
  const precision = opts.precision ?? 'auto';
  if (!PRECISIONS.includes(precision)) {
    throw createError('CCES_ERR_LP_PRECISION', `unknown timestamp precision "${precision}"`, {
      precision,
      known: PRECISIONS,
    });
  }
  return new LineParser(input, precision, opts.now).run();
}

class LineParser {
  /** The input bytes, and a latin1 view of them: index i is byte i in both. */
  readonly #b: Buffer;
  readonly #s: string;
  readonly #n: number;
  /** The input is valid UTF-8 as a whole, so no entry needs a check of its own. */
  readonly #valid: boolean;
  readonly #precision: Precision;
  #now: bigint | undefined;
  #line = 1;
  /** Where the current entry starts, the start of its first line, and that line's number. */
  #start = 0;
  #lineStart = 0;
  #startLine = 1;
  readonly #messages: Message[] = [];
  readonly #errors: DecodeError[] = [];

  constructor(input: Buffer | string, precision: Precision, now: bigint | undefined) {
    if (typeof input !== 'string') {
      this.#b = input;
      this.#valid = isUtf8(input);
      this.#s = latin1(input, 0, input.length);
    } else if (isWellFormed(input)) {
      this.#b = Buffer.from(input, 'utf8');
      this.#valid = true;
      // Same length in bytes and chars means pure ASCII: the input is its own latin1 view.
      this.#s = this.#b.length === input.length ? input : latin1(this.#b, 0, this.#b.length);
    } else {
      this.#b = encodeWithLoneSurrogates(input);
      this.#valid = false;
      this.#s = latin1(this.#b, 0, this.#b.length);
    }
    this.#n = this.#b.length;
    this.#precision = precision;
    this.#now = now;
  }

  run(): DecodeResult {
    const b = this.#b;
    const n = this.#n;
    // A byte order mark (files saved by some editors) is not part of the first measurement.
    let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
    while (i < n) {
      const lineStart = i;
      let c = b[i]!;
      while (c === SPACE) c = b[++i]!;
      if (c === LF || (c === CR && b[i + 1] === LF)) {
        i += c === LF ? 1 : 2;
        this.#line++;
        continue;
      }
      if (i >= n) break;
      this.#start = i;
      this.#lineStart = lineStart;
      this.#startLine = this.#line;
      i = c === HASH ? this.#comment(i) : this.#entry(i);
    }
    return { messages: this.#messages, errors: this.#errors };
  }

  /** Skips a comment line; one holding a control character is refused. */
  #comment(start: number): number {
    const b = this.#b;
    let i = start + 1;
    for (; i < this.#n; i++) {
      const c = b[i]!;
      if (c >= SPACE && c !== 127) continue;
      if (c === LF || (c === CR && b[i + 1] === LF)) break;
      return this.#fail(i, `invalid character ${hex(c)} in comment line`);
    }
    const bad = this.#firstBadText(start, i);
    if (bad >= 0) return this.#fail(bad, INVALID_UTF8);
    if (i >= this.#n) return i;
    this.#line++;
    return b[i] === LF ? i + 1 : i + 2;
  }

  /** Text of the measurement or key `[a, e)` just scanned. */
  #text(a: number, e: number, measurement: boolean): string {
    if (scan.escaped) {
      const t = measurement ? unescapeMeasurement(this.#s, a, e) : unescapeKey(this.#s, a, e);
      return scan.high ? latin1ToUtf8(t) : t;
    }
    return scan.high ? utf8(this.#b, a, e) : this.#s.slice(a, e);
  }

  /** Decodes the entry at `start`; returns where the next line begins. */
  #entry(start: number): number {
    const b = this.#b;
    const s = this.#s;
    const n = this.#n;
    let i = scanToken(b, start, n, MEASUREMENT_STOP, MEASUREMENT_ESCAPES);
    let c = b[i]!;
    if (i === start) {
      const why = 'missing measurement';
      return this.#fail(i, this.#reason(i, c, 'measurement', why, why));
    }
    const name =
      scan.escaped || scan.high ? this.#text(start, i, true) : sliceCached(b, s, start, i);
    if (c !== COMMA && c !== SPACE) {
      const why = 'missing field set';
      return this.#fail(i, this.#reason(i, c, 'measurement', why, why));
    }

    const tags: Record<string, string> = nullObject();
    while (c === COMMA) {
      const ks = i + 1;
      i = scanToken(b, ks, n, KEY_STOP, KEY_ESCAPES);
      c = b[i]!;
      if (i === ks) {
        const other =
          c === SPACE ? 'expected tag key after comma; got white space' : 'empty tag key';
        return this.#fail(i, this.#reason(i, c, 'tag key', 'expected tag key after comma', other));
      }
      if (c !== EQUALS) {
        const why = "expected '=' after tag key";
        return this.#fail(i, this.#reason(i, c, 'tag key', why, why));
      }
      const key = scan.escaped || scan.high ? this.#text(ks, i, false) : sliceCached(b, s, ks, i);
      const vs = i + 1;
      i = scanToken(b, vs, n, KEY_STOP, KEY_ESCAPES);
      c = b[i]!;
      if (i === vs) {
        return this.#fail(i, this.#reason(i, c, 'tag value', 'empty tag value', 'empty tag value'));
      }
      tags[key] = scan.escaped || scan.high ? this.#text(vs, i, false) : s.slice(vs, i);
    }
    if (c !== SPACE) {
      const other = "unescaped '=' in tag value";
      return this.#fail(i, this.#reason(i, c, 'tag value', 'missing field set', other));
    }

    do c = b[++i]!;
    while (c === SPACE);
    const fields: Record<string, FieldValue> = nullObject();
    for (;;) {
      const ks = i;
      i = scanToken(b, ks, n, KEY_STOP, KEY_ESCAPES);
      c = b[i]!;
      if (i === ks || c !== EQUALS) {
        const why = i === ks ? 'expected field key' : "expected '=' after field key";
        return this.#fail(i, this.#reason(i, c, 'field key', why, why));
      }
      const key = scan.escaped || scan.high ? this.#text(ks, i, false) : sliceCached(b, s, ks, i);
      const vs = ++i;
      let value: FieldValue | undefined;
      if (b[vs] === QUOTE) {
        const close = scanString(b, vs + 1, n);
        if (close < 0) return this.#fail(vs, 'expected closing quote', n);
        if (scan.escaped) value = scratchText();
        else value = scan.high ? utf8(b, vs + 1, close) : s.slice(vs + 1, close);
        this.#line += scan.newlines;
        i = close + 1;
      } else {
        i = scanValue(b, vs, n);
        if (i === vs) return this.#fail(i, 'missing field value');
        value = parseScalar(s, vs, i);
        if (value === undefined) return this.#fail(vs, valueError.reason);
      }
      fields[key] = value;
      c = b[i]!;
      if (c !== COMMA) break;
      i++;
    }

    let time: bigint | undefined;
    let end = this.#lineEnd(i, c);
    if (end < 0) {
      if (c !== SPACE) {
        const why = c === CR ? 'lone carriage return' : 'unexpected character after field';
        return this.#fail(i, why);
      }
      do c = b[++i]!;
      while (c === SPACE);
      end = this.#lineEnd(i, c);
    }
    if (end < 0) {
      const ts = i;
      if (c === 45) c = b[++i]!;
      while (c >= 48 && c <= 57) c = b[++i]!;
      if (c !== SPACE && c !== LF && c !== CR && i < n) return this.#fail(ts, 'invalid timestamp');
      time = this.#timestamp(ts, i);
      if (time === undefined) return this.#fail(ts, valueError.reason);
      while (c === SPACE) c = b[++i]!;
      end = this.#lineEnd(i, c);
      if (end < 0) return this.#fail(i, 'unexpected text after timestamp');
    }

    if (i < n) this.#line++;
    time ??= this.#receiveTime();
    if (!this.#valid) {
      const bad = this.#firstBadText(start, end);
      if (bad >= 0) return this.#fail(bad, INVALID_UTF8, end);
    }
    this.#messages.push(new MessageRecord(name, tags, fields, time, this.#startLine));
    return end;
  }

  /** Index after the line end at `i` (LF, CR LF or the end of input), or -1. */
  #lineEnd(i: number, c: number): number {
    if (c === LF) return i + 1;
    if (c === CR && this.#b[i + 1] === LF) return i + 2;
    return i >= this.#n ? i : -1;
  }

  /**
   * The timestamp `[a, e)` (`-?[0-9]*`) in ns, or undefined with the reason in valueError. The
   * common case, 19 digits of ns below 9e18, needs no range check and no magnitude guess.
   */
  #timestamp(a: number, e: number): bigint | undefined {
    const first = this.#b[a]!;
    const p = this.#precision;
    if (e - a === 19 && first >= 49 && first <= 56 && (p === 'ns' || p === 'auto')) {
      return BigInt(this.#s.slice(a, e));
    }
    const raw = parseTimestamp(this.#s, a, e);
    if (raw === undefined || p === 'ns') return raw;
    const t = toNanos(raw, p);
    if (t <= INT64_MAX && t >= INT64_MIN) return t;
    valueError.reason = 'timestamp out of range';
    return undefined;
  }

  #receiveTime(): bigint {
    this.#now ??= nowNanos();
    return this.#now;
  }

  /** Why a token ended at byte `c` (index `i`): a line end, a control character, or else. */
  #reason(i: number, c: number, section: string, atLineEnd: string, other: string): string {
    if (i >= this.#n || c === LF) return atLineEnd;
    if (c === CR) return this.#b[i + 1] === LF ? atLineEnd : 'lone carriage return';
    if (c < SPACE || c === 127) return `invalid character ${hex(c)} in ${section}`;
    return other;
  }

  /** First byte of `[a, e)` that starts invalid UTF-8; -1 when the whole input is valid. */
  #firstBadText(a: number, e: number): number {
    return this.#valid ? -1 : firstInvalidUtf8(this.#b, a, e);
  }

  /**
   * Refuses the current entry for a problem at `pos`. Decoding resumes at `resume` when
   * given, else after the next LF. Invalid UTF-8 up to `pos` is reported instead, since the
   * sender's real problem is then its encoding.
   */
  #fail(pos: number, reason: string, resume?: number): number {
    let next = resume ?? -1;
    if (next < 0) {
      const lf = this.#b.indexOf(LF, pos);
      if (lf >= 0) this.#line++;
      next = lf < 0 ? this.#n : lf + 1;
    }
    const bad = reason === INVALID_UTF8 ? -1 : this.#firstBadText(this.#start, next);
    if (bad >= 0 && bad <= pos) {
      pos = bad;
      reason = INVALID_UTF8;
    }
    this.#errors.push({
      line: this.#startLine,
      column: pos - this.#lineStart + 1,
      reason,
      raw: this.#raw(next),
    });
    return next;
  }

  /** The current entry's text up to `end`, without its line end, at most {@link MAX_RAW} bytes. */
  #raw(end: number): string {
    const b = this.#b;
    const start = this.#start;
    if (end > start && b[end - 1] === LF) end--;
    if (end > start && b[end - 1] === CR) end--;
    return b.toString('utf8', start, Math.min(end, start + MAX_RAW));
  }
}

function hex(c: number): string {
  return `0x${c.toString(16).padStart(2, '0')}`;
}
