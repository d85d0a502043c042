/**
 * The encoder: exact output, escaping, precisions, refusals, and the samples read back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode, encode } from '../../../core/lineproto/index.ts';
import { Uint } from '../../../core/message.ts';
import type { FieldValue, Message } from '../../../core/message.ts';
import { readSample, sampleNames } from '../../helpers/samples.ts';

function msg(
  name: string,
  tags: Record<string, string>,
  fields: Record<string, unknown>,
  time = 1735732800_000000000n,
): Message {
  return { name, tags, fields: fields as Record<string, FieldValue>, time };
}

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    const e = err as { code?: string; message: string };
    return `${e.code}: ${e.message}`;
  }
  return 'no error';
}

describe('encode', () => {
  it('writes one entry: tags sorted by key, fields in order, ns time, no newline', () => {
    const fields = { event: 'x', n: -5n, u: new Uint(7n), f: 1.5, b: true, c: false };
    const line = encode(msg('job', { type: 'node', cluster: 'tc', a: '1' }, fields));
    assert.equal(
      line,
      'job,a=1,cluster=tc,type=node event="x",n=-5i,u=7u,f=1.5,b=true,c=false 1735732800000000000',
    );
  });

  it('writes a message without tags', () => {
    assert.equal(encode(msg('m', {}, { f: 1 }, -1n)), 'm f=1 -1');
  });

  it('escapes measurements, keys and tag values; keeps other backslashes', () => {
    const line = encode(msg('a,b c=d\\x', { 'k,= x': 'v,= y\\z' }, { 'f,= k': 1 }, 1n));
    assert.equal(line, String.raw`a\,b\ c=d\x,k\,\=\ x=v\,\=\ y\z f\,\=\ k=1 1`);
  });

  it('escapes a backslash before a delimiter so that it reads back literally', () => {
    const line = encode(msg('a\\,b', { t: 'x\\ y' }, { f: 1 }, 1n));
    assert.equal(line, String.raw`a\\,b,t=x\\ y f=1 1`);
    const back = decode(line, { precision: 'ns' }).messages[0]!;
    assert.equal(back.name, 'a\\,b');
    assert.equal(back.tags.t, 'x\\ y');
  });

  it('writes strings with \\\\ \\" \\n \\r \\t escapes, other control characters raw', () => {
    const line = encode(msg('m', {}, { s: 'q"b\\s\nl\rc\tt\0e' }, 1n));
    assert.equal(line, 'm s="q\\"b\\\\s\\nl\\rc\\tt\0e" 1');
  });

  it('writes floats so they read back exactly, always as floats', () => {
    const cases: [number, string][] = [
      [1, '1'],
      [-0, '-0'],
      [0, '0'],
      [0.1, '0.1'],
      [1e21, '1e+21'],
      [5e-324, '5e-324'],
      [-1.7976931348623157e308, '-1.7976931348623157e+308'],
      [123456789.125, '123456789.125'],
    ];
    for (const [value, text] of cases) {
      const line = encode(msg('m', {}, { f: value }, 1n));
      assert.equal(line, `m f=${text} 1`);
      assert.ok(Object.is(decode(line, { precision: 'ns' }).messages[0]!.fields.f, value), text);
    }
  });

  it('writes int64 and uint64 bounds', () => {
    const fields = {
      a: 9223372036854775807n,
      b: -9223372036854775808n,
      c: new Uint(18446744073709551615n),
      d: new Uint(0n),
    };
    assert.equal(
      encode(msg('m', {}, fields, 1n)),
      'm a=9223372036854775807i,b=-9223372036854775808i,c=18446744073709551615u,d=0u 1',
    );
  });

  it('writes the time in the given precision when it is exact', () => {
    const m = msg('m', {}, { f: 1 }, 1735732800_123456000n);
    assert.equal(encode(m, 'us'), 'm f=1 1735732800123456');
    assert.equal(encode(m, 'ns'), 'm f=1 1735732800123456000');
    assert.equal(encode(msg('m', {}, { f: 1 }, 1735732800_000000000n), 's'), 'm f=1 1735732800');
    assert.equal(encode(msg('m', {}, { f: 1 }, -2_000_000n), 'ms'), 'm f=1 -2');
    assert.equal(
      refusal(() => encode(m, 'ms')),
      'CCES_ERR_LP_ENCODE: the time 1735732800123456000 ns is not a whole number of ms',
    );
    assert.match(
      refusal(() => encode(m, 'h' as 's')),
      /^CCES_ERR_LP_PRECISION: /,
    );
  });

  it('refuses what line protocol cannot hold, with a coded error', () => {
    const cases: [Message, string][] = [
      [msg('m', {}, {}), 'a message needs at least one field'],
      [msg('', {}, { f: 1 }), 'a measurement must be a non-empty string'],
      [
        msg('#m', {}, { f: 1 }),
        'a measurement cannot start with "#" (the line would be a comment)',
      ],
      [msg('m\\', {}, { f: 1 }), 'a measurement cannot end with a backslash'],
      [msg('m\n', {}, { f: 1 }), 'a measurement cannot hold control characters or lone surrogates'],
      [msg('m', { t: '' }, { f: 1 }), 'a tag value must be a non-empty string'],
      [msg('m', { '': 'v' }, { f: 1 }), 'a tag key must be a non-empty string'],
      [
        msg('m', { t: 'a\tb' }, { f: 1 }),
        'a tag value cannot hold control characters or lone surrogates',
      ],
      [
        msg('m', { t: '\ud800' }, { f: 1 }),
        'a tag value cannot hold control characters or lone surrogates',
      ],
      [msg('m', { t: 'v\\' }, { f: 1 }), 'a tag value cannot end with a backslash'],
      [msg('m', {}, { '': 1 }), 'a field key must be a non-empty string'],
      [msg('m', {}, { f: NaN }), 'a float field value must be finite'],
      [msg('m', {}, { f: -Infinity }), 'a float field value must be finite'],
      [msg('m', {}, { f: 9223372036854775808n }), 'an integer field value is outside int64'],
      [msg('m', {}, { f: new Uint(-1n) }), 'a field value has no line-protocol type'],
      [
        msg('m', {}, { f: new Uint(18446744073709551616n) }),
        'a field value has no line-protocol type',
      ],
      [msg('m', {}, { f: null }), 'a field value has no line-protocol type'],
      [msg('m', {}, { f: 'x\udc00' }), 'a string field value cannot hold lone surrogates'],
      [
        msg('m', {}, { f: 1 }, 9223372036854775808n),
        'a time must be a bigint within int64 nanoseconds',
      ],
    ];
    for (const [m, sentence] of cases)
      assert.equal(
        refusal(() => encode(m)),
        `CCES_ERR_LP_ENCODE: ${sentence}`,
      );
  });

  it('reads every good entry of every sample back to the same message', () => {
    for (const name of sampleNames()) {
      const { messages } = decode(readSample(name), { now: 42n });
      const text = messages.map((m) => encode(m)).join('\n');
      const back = decode(text, { precision: 'ns' });
      assert.deepEqual(back.errors, [], name);
      assert.deepEqual(
        back.messages,
        messages.map((m, k) => ({ ...m, line: k + 1 })),
        name,
      );
    }
  });
});
