/**
 * Property tests: random messages survive encode/decode; random and mutated bytes never make
 * the decoder throw or hang, and what it reports stays consistent.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode } from '../../../core/lineproto/index.ts';
import type { DecodeResult, EncodePrecision } from '../../../core/lineproto/index.ts';
import { Uint } from '../../../core/message.ts';
import type { FieldValue, Message } from '../../../core/message.ts';
import { readSample, sampleNames } from '../../helpers/samples.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Characters that stress the escaping rules, mixed with any printable code point. */
const tricky = fc.oneof(
  fc.constantFrom(',', ' ', '=', '\\', '"', '#', 'a', 'Z', '0', '-', 'é', '€', '🚀', '\u00a0'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
);

/** A name, key or tag value the encoder can write: no trailing backslash. */
const name = fc
  .string({ unit: tricky, minLength: 1, maxLength: 12 })
  .filter((s) => !s.endsWith('\\'));

const measurement = name.filter((s) => !s.startsWith('#'));

/** String field values: anything well-formed, control characters and line ends included. */
const text = fc.string({
  unit: fc.oneof(
    tricky,
    fc.constantFrom('\n', '\r', '\t', '\0', '\r\n', '\\n', '\\"'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 40,
});

const fieldValue: fc.Arbitrary<FieldValue> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.bigInt(INT64_MIN, INT64_MAX),
  fc.bigInt(0n, 2n ** 64n - 1n).map((v) => new Uint(v)),
  fc.boolean(),
  text,
);

function nullRecord<T>(entries: [string, T][]): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [k, v] of entries) out[k] = v;
  return out;
}

const message: fc.Arbitrary<Message> = fc.record({
  name: measurement,
  tags: fc
    .uniqueArray(fc.tuple(name, name), { selector: ([k]) => k, maxLength: 5 })
    .map(nullRecord),
  fields: fc
    .uniqueArray(fc.tuple(name, fieldValue), { selector: ([k]) => k, minLength: 1, maxLength: 5 })
    .map(nullRecord),
  time: fc.bigInt(INT64_MIN, INT64_MAX),
});

const FACTOR: Record<EncodePrecision, bigint> = {
  s: 1_000_000_000n,
  ms: 1_000_000n,
  us: 1_000n,
  ns: 1n,
};

/** Facts that hold for any decode result of `input`. */
function checkConsistent(input: Uint8Array, r: DecodeResult): void {
  const lines = Buffer.from(input).toString('latin1').split('\n').length;
  let last = 0;
  for (const m of r.messages) {
    assert.ok(m.line! > last && m.line! <= lines, `message line ${m.line}`);
    assert.equal(Object.getPrototypeOf(m.tags), null);
    assert.equal(Object.getPrototypeOf(m.fields), null);
    assert.ok(Object.keys(m.fields).length > 0);
    assert.ok(m.time >= INT64_MIN && m.time <= INT64_MAX);
    last = m.line!;
  }
  for (const e of r.errors) {
    assert.ok(e.line >= 1 && e.line <= lines && e.column >= 1, `error at ${e.line}:${e.column}`);
    assert.ok(Buffer.byteLength(e.raw) <= 65536 * 3);
    assert.ok(e.reason.length > 0);
  }
}

const samples = sampleNames().map((n) => readSample(n));

/**
 * A sample with a few bytes replaced, inserted or removed, or cut short; `untouched` counts the
 * leading bytes no edit changed.
 */
const mutatedSample = fc
  .tuple(
    fc.constantFrom(...samples),
    fc.array(
      fc.tuple(
        fc.constantFrom('set', 'insert', 'delete', 'cut'),
        fc.nat(),
        fc.oneof(
          fc.constantFrom(10, 13, 32, 34, 44, 61, 92, 35, 0, 0xff, 0xc3),
          fc.integer({ min: 0, max: 255 }),
        ),
      ),
      { minLength: 1, maxLength: 8 },
    ),
  )
  .map(([sample, edits]) => {
    let bytes = Array.from(sample);
    let untouched = bytes.length;
    for (const [op, at, byte] of edits) {
      const i = at % (bytes.length + 1);
      untouched = Math.min(untouched, i);
      if (op === 'set' && i < bytes.length) bytes[i] = byte;
      else if (op === 'insert') bytes.splice(i, 0, byte);
      else if (op === 'delete') bytes.splice(i, 1);
      else if (op === 'cut') bytes = bytes.slice(0, i);
    }
    return { sample, bytes: Uint8Array.from(bytes), untouched };
  });

describe('line-protocol properties', () => {
  it('decodes every encoded message back to itself', () => {
    fc.assert(
      fc.property(message, (m) => {
        const r = decode(encode(m), { precision: 'ns' });
        assert.deepEqual(r.errors, []);
        assert.deepEqual(r.messages, [{ ...m, line: 1 }]);
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips in every precision when the time is a whole number of it', () => {
    const precision = fc.constantFrom<EncodePrecision>('s', 'ms', 'us', 'ns');
    fc.assert(
      fc.property(message, precision, (m, p) => {
        const time = (m.time / FACTOR[p]) * FACTOR[p];
        const r = decode(Buffer.from(encode({ ...m, time }, p)), { precision: p });
        assert.deepEqual(r.messages, [{ ...m, time, line: 1 }]);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the physical line of each entry in a batch with blank lines and comments', () => {
    const gap = fc.constantFrom('', '\n', '\r\n', '# note\n', '   \n', '  # indented\r\n');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(gap, message, fc.constantFrom('\n', '\r\n')), { maxLength: 8 }),
        (items) => {
          let text = '';
          let line = 1;
          const expected: Message[] = [];
          for (const [before, m, end] of items) {
            text += before;
            line += before.split('\n').length - 1;
            const entry = encode(m);
            expected.push({ ...m, line });
            text += entry + end;
            line += 1 + (entry.match(/\n/g)?.length ?? 0);
          }
          const r = decode(text, { precision: 'ns' });
          assert.deepEqual(r.errors, []);
          assert.deepEqual(r.messages, expected);
          assert.deepEqual(decode(Buffer.from(text), { precision: 'ns' }), r);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws on random bytes and reports consistently', () => {
    const bytes = fc.uint8Array({ maxLength: 2000 });
    const lpish = fc
      .array(
        fc.constantFrom(
          ...'ab,= "\\\n\r#01-.it'.split('').map((c) => c.charCodeAt(0)),
          0xff,
          0xc3,
          0,
        ),
        { maxLength: 400 },
      )
      .map((a) => Uint8Array.from(a));
    fc.assert(
      fc.property(fc.oneof(bytes, lpish), (input) => {
        checkConsistent(input, decode(Buffer.from(input)));
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on mutated samples and keeps the entries before the first edit', () => {
    fc.assert(
      fc.property(mutatedSample, ({ sample, bytes, untouched }) => {
        const r = decode(Buffer.from(bytes), { now: 1n });
        checkConsistent(bytes, r);
        // Entries that end (line end included) before the first edit decode as they did.
        const end = untouched > 0 ? sample.lastIndexOf(10, untouched - 1) + 1 : 0;
        const prefix = sample.subarray(0, end);
        const before = decode(prefix, { now: 1n }).messages;
        assert.deepEqual(r.messages.slice(0, before.length), before);
      }),
      { numRuns: 400 },
    );
  });

  it('decodes a string and its UTF-8 bytes alike', () => {
    const lp = fc.string({
      unit: fc.constantFrom('m', 'ü', '🚀', ',', '=', ' ', '"', '\\', '\n', '1', 'i', 't', 'x'),
      maxLength: 60,
    });
    fc.assert(
      fc.property(lp, (s) => {
        assert.deepEqual(decode(s, { now: 5n }), decode(Buffer.from(s), { now: 5n }));
      }),
      { numRuns: 500 },
    );
  });
});
