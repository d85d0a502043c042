/**
 * Field values and timestamps: every type, its bounds, precisions and the magnitude guess.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../core/lineproto/index.ts';
import type { DecodeOptions } from '../../../core/lineproto/index.ts';
import { Uint } from '../../../core/message.ts';
import type { FieldValue } from '../../../core/message.ts';
import { nowNanos } from '../../../core/time.ts';

/** The single field `f` of `m f=<text> 1`, or the reason it was refused. */
function value(text: string): FieldValue | string {
  const r = decode(`m f=${text} 1`, { precision: 'ns' });
  if (r.errors.length > 0) return `error: ${r.errors[0]!.reason}`;
  return r.messages[0]!.fields.f!;
}

/** The time of `m f=1 <text>`, or the reason it was refused. */
function time(text: string, opts: DecodeOptions = {}): bigint | string {
  const r = decode(`m f=1 ${text}`, opts);
  if (r.errors.length > 0) return `error: ${r.errors[0]!.reason}`;
  return r.messages[0]!.time;
}

describe('decode: field values', () => {
  it('reads a number without suffix as a float', () => {
    const cases: [string, number][] = [
      ['1', 1],
      ['1.5', 1.5],
      ['-3e5', -300000],
      ['.5', 0.5],
      ['5.', 5],
      ['-.25', -0.25],
      ['1E+2', 100],
      ['1e-2', 0.01],
      ['0', 0],
      ['007.5', 7.5],
      ['1.7976931348623157e308', Number.MAX_VALUE],
      ['5e-324', 5e-324],
      ['0.1', 0.1],
      ['123456789012345678901234567890', 1.2345678901234568e29],
    ];
    for (const [text, expected] of cases) assert.equal(value(text), expected, text);
    assert.ok(Object.is(value('-0'), -0));
  });

  it('refuses malformed floats, NaN, infinity and overflow', () => {
    const cases: [string, string][] = [
      ['1.2.3', 'invalid float value'],
      ['1e', 'invalid float value'],
      ['-', 'invalid float value'],
      ['.', 'invalid float value'],
      ['1e+', 'invalid float value'],
      ['0x10', 'invalid float value'],
      ['1_000', 'invalid float value'],
      ['-Inf', 'invalid float value'],
      ['1e400', 'value out of range'],
      ['-1e400', 'value out of range'],
      ['NaN', 'field value has unrecognized type'],
      ['Inf', 'field value has unrecognized type'],
      ['+1', 'field value has unrecognized type'],
    ];
    for (const [text, reason] of cases) assert.equal(value(text), `error: ${reason}`, text);
  });

  it('reads Ni as int64 (bigint) up to its bounds', () => {
    assert.equal(value('12i'), 12n);
    assert.equal(value('-12i'), -12n);
    assert.equal(value('0i'), 0n);
    assert.equal(value('007i'), 7n);
    assert.equal(value('9223372036854775807i'), 9223372036854775807n);
    assert.equal(value('-9223372036854775808i'), -9223372036854775808n);
    assert.equal(value('1234567890123456i'), 1234567890123456n);
    assert.equal(value('9223372036854775808i'), 'error: value out of range');
    assert.equal(value('-9223372036854775809i'), 'error: value out of range');
    assert.equal(value('123456789012345678901234567890i'), 'error: value out of range');
    assert.equal(value('1.5i'), 'error: invalid integer value');
    assert.equal(value('-i'), 'error: invalid integer value');
    assert.equal(value('1-2i'), 'error: invalid integer value');
  });

  it('reads Nu as uint64 (Uint) up to its bound', () => {
    assert.deepEqual(value('12u'), new Uint(12n));
    assert.deepEqual(value('0u'), new Uint(0n));
    assert.deepEqual(value('18446744073709551615u'), new Uint(18446744073709551615n));
    assert.ok(value('1u') instanceof Uint);
    assert.equal(value('18446744073709551616u'), 'error: value out of range');
    assert.equal(value('-1u'), 'error: invalid unsigned integer value');
    assert.equal(value('1.0u'), 'error: invalid unsigned integer value');
  });

  it('reads the ten spellings of booleans and nothing else', () => {
    for (const t of ['t', 'T', 'true', 'True', 'TRUE']) assert.equal(value(t), true, t);
    for (const f of ['f', 'F', 'false', 'False', 'FALSE']) assert.equal(value(f), false, f);
    for (const bad of ['truth', 'tRUE', 'yes', 'fa', 'FALSe']) {
      const expected = /^[tTfF]/.test(bad)
        ? 'invalid boolean value'
        : 'field value has unrecognized type';
      assert.equal(value(bad), `error: ${expected}`, bad);
    }
  });

  it('reads strings with \\" \\\\ \\n \\r \\t escapes and keeps other backslashes', () => {
    assert.equal(value('"plain"'), 'plain');
    assert.equal(value('""'), '');
    assert.equal(value(String.raw`"q\"b\\s\nl\rc\tt"`), 'q"b\\s\nl\rc\tt');
    assert.equal(value(String.raw`"C:\temp\x\a\,\=\ "`), 'C:\temp\\x\\a\\,\\=\\ ');
    assert.equal(value(String.raw`"ends with \\"`), 'ends with \\');
    assert.equal(value(String.raw`"\\n is not a newline"`), '\\n is not a newline');
    assert.equal(value('"a,b=c d"'), 'a,b=c d');
    assert.equal(
      value('"raw \0 nul, \t tab, \r cr, \x7f del"'),
      'raw \0 nul, \t tab, \r cr, \x7f del',
    );
    assert.equal(value('"umlaut ü, emoji 🚀"'), 'umlaut ü, emoji 🚀');
    assert.equal(value(String.raw`"ü\"🚀\""`), 'ü"🚀"');
  });

  it('keeps several fields in order, the last of duplicate keys winning', () => {
    const r = decode('m a=1,b="x",c=2i,d=t,e=3u,a=9 1', { precision: 'ns' });
    assert.deepEqual(
      { ...r.messages[0]!.fields },
      { a: 9, b: 'x', c: 2n, d: true, e: new Uint(3n) },
    );
    assert.deepEqual(Object.keys(r.messages[0]!.fields), ['a', 'b', 'c', 'd', 'e']);
  });

  it('refuses missing values and keys', () => {
    const reasons = (text: string) => decode(text).errors.map((e) => [e.column, e.reason]);
    assert.deepEqual(reasons('m f= 1'), [[5, 'missing field value']]);
    assert.deepEqual(reasons('m f='), [[5, 'missing field value']]);
    assert.deepEqual(reasons('m f=,g=1'), [[5, 'missing field value']]);
    assert.deepEqual(reasons('m f=1,'), [[7, 'expected field key']]);
    assert.deepEqual(reasons('m f=1,,g=2'), [[7, 'expected field key']]);
    assert.deepEqual(reasons('m =1'), [[3, 'expected field key']]);
    assert.deepEqual(reasons('m f'), [[4, "expected '=' after field key"]]);
    assert.deepEqual(reasons('m f,g=1'), [[4, "expected '=' after field key"]]);
    assert.deepEqual(reasons('m f="x"y'), [[8, 'unexpected character after field']]);
    assert.deepEqual(reasons('m f={"a":1}'), [[5, 'field value has unrecognized type']]);
  });
});

describe('decode: timestamps', () => {
  it('applies a stated precision exactly', () => {
    assert.equal(time('1735732800', { precision: 's' }), 1735732800_000000000n);
    assert.equal(time('1735732800123', { precision: 'ms' }), 1735732800_123000000n);
    assert.equal(time('1735732800123456', { precision: 'us' }), 1735732800_123456000n);
    assert.equal(time('1735732800123456789', { precision: 'ns' }), 1735732800_123456789n);
    assert.equal(time('1', { precision: 's' }), 1_000_000_000n);
    assert.equal(time('1', { precision: 'ms' }), 1_000_000n);
    assert.equal(time('1', { precision: 'us' }), 1_000n);
    assert.equal(time('1', { precision: 'ns' }), 1n);
    assert.equal(time('1735732800123456789', { precision: 'auto' }), 1735732800_123456789n);
  });

  it('guesses the unit by magnitude in auto mode (default)', () => {
    assert.equal(time('0'), 0n);
    assert.equal(time('9223372036'), 9223372036_000000000n);
    // Below 1e11 means seconds, and from 9223372037 s on that no longer fits int64 ns.
    assert.equal(time('99999999999'), 'error: timestamp out of range');
    assert.equal(time('100000000000'), 100000000000_000000n);
    assert.equal(time('9223372036854'), 9223372036854_000000n);
    assert.equal(time('99999999999999'), 'error: timestamp out of range');
    assert.equal(time('100000000000000'), 100000000000000_000n);
    assert.equal(time('9223372036854775'), 9223372036854775_000n);
    assert.equal(time('99999999999999999'), 'error: timestamp out of range');
    assert.equal(time('100000000000000000'), 100000000000000000n);
    assert.equal(time('-1'), -1_000_000_000n);
    assert.equal(time('-9223372036'), -9223372036_000000000n);
    assert.equal(time('-99999999999'), 'error: timestamp out of range');
    assert.equal(time('-100000000000'), -100000000000_000000n);
    assert.equal(time('-1735732800123456789'), -1735732800123456789n);
    assert.equal(time('0001735732800'), 1735732800_000000000n);
  });

  it('keeps times that fit int64 and refuses the others, before and after scaling', () => {
    assert.equal(time('9223372036854775807'), 9223372036854775807n);
    assert.equal(time('-9223372036854775808'), -9223372036854775808n);
    assert.equal(time('9223372036854775808'), 'error: timestamp out of range');
    assert.equal(time('-9223372036854775809'), 'error: timestamp out of range');
    assert.equal(time('99999999999999999999'), 'error: timestamp out of range');
    assert.equal(time('9223372036', { precision: 's' }), 9223372036_000000000n);
    assert.equal(time('9223372037', { precision: 's' }), 'error: timestamp out of range');
    assert.equal(time('-9223372037', { precision: 's' }), 'error: timestamp out of range');
    assert.equal(time('1735732800000000000', { precision: 'ms' }), 'error: timestamp out of range');
    assert.equal(time('9223372036854775', { precision: 'us' }), 9223372036854775000n);
    assert.equal(time('9223372036854776', { precision: 'us' }), 'error: timestamp out of range');
  });

  it('refuses timestamps that are not integers', () => {
    for (const text of [
      '1735732800.5',
      '12a',
      '1-2',
      '--1',
      '-',
      '2025-01-01T12:00:00Z',
      '1e9',
      'x',
    ]) {
      assert.equal(time(text), 'error: invalid timestamp', text);
    }
    assert.equal(time('1 x'), 'error: unexpected text after timestamp');
    assert.equal(time('1 2'), 'error: unexpected text after timestamp');
  });

  it('allows trailing spaces after the timestamp and after the fields', () => {
    assert.equal(time('1735732800   '), 1735732800_000000000n);
    const r = decode('m f=1   \nm f=2 \r\n', { now: 7n });
    assert.deepEqual(
      r.messages.map((msg) => [msg.time, msg.line]),
      [
        [7n, 1],
        [7n, 2],
      ],
    );
  });

  it('uses opts.now for entries without a timestamp, else the time of the call', () => {
    assert.equal(decode('m f=1', { now: 123n }).messages[0]!.time, 123n);
    const before = nowNanos();
    const r = decode('m f=1\nm f=2');
    const after = nowNanos();
    const t = r.messages[0]!.time;
    assert.ok(t >= before - 1_000_000n && t <= after + 1_000_000n);
    assert.equal(r.messages[1]!.time, t);
  });

  it('throws a coded error for an unknown precision', () => {
    assert.throws(
      () => decode('m f=1 1', { precision: 'h' as 's' }),
      (err: { code?: string }) => err.code === 'CCES_ERR_LP_PRECISION',
    );
  });
});
