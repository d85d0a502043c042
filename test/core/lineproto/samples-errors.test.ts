/**
 * Samples with bad entries: each is reported on its line with a reason, every good entry is
 * kept, and the counts match the files' headers. Also: every sample file is covered.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../core/lineproto/index.ts';
import type { DecodeResult } from '../../../core/lineproto/index.ts';
import { readSample, sampleNames } from '../../helpers/samples.ts';
import { NOW, decodeSample, m } from './expect.ts';

/** Line, column and reason of each error. */
function errorsOf(result: DecodeResult): [number, number, string][] {
  return result.errors.map((e) => [e.line, e.column, e.reason]);
}

const tc = { cluster: 'testcluster' };

describe('line-protocol samples: errors', () => {
  it('covers every sample file', () => {
    assert.deepEqual(sampleNames(), [
      'batch-crlf.lp',
      'job-events.lp',
      'json-escaping.lp',
      'logs.lp',
      'long-payload.lp',
      'malformed-bytes.lp',
      'malformed.lp',
      'missing-cluster.lp',
      'mixed-types.lp',
      'tag-escaping.lp',
      'timestamps.lp',
    ]);
  });

  it('malformed.lp: 13 bad entries reported on their lines, 13 good ones kept', () => {
    const r = decodeSample('malformed.lp');
    const good = { ...tc, hostname: 'node001' };
    const expected = [4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 34, 37].map((line, k) =>
      m(
        line,
        'good',
        good,
        { event: `after-${k + 1}` },
        1735732890_000000000n + BigInt([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11][k]!) * 1_000_000_000n,
      ),
    );
    expected.push(m(39, 'good', good, { event: 'before-13' }, 1735732902_000000000n));
    assert.deepEqual(r.messages, expected);
    assert.deepEqual(errorsOf(r), [
      [3, 66, 'field value has unrecognized type'],
      [6, 64, 'field value has unrecognized type'],
      [9, 61, "expected '=' after field key"],
      [12, 4, 'missing field set'],
      [15, 34, 'empty tag value'],
      [18, 5, 'expected tag key after comma; got white space'],
      [21, 44, "expected '=' after field key"],
      [24, 46, "unescaped '=' in tag value"],
      [27, 53, 'unexpected character after field'],
      [30, 49, 'invalid boolean value'],
      [33, 49, 'value out of range'],
      [36, 73, 'unexpected text after timestamp'],
      [40, 49, 'expected closing quote'],
    ]);
    assert.equal(r.errors[3]!.raw, 'job');
    assert.equal(
      r.errors[12]!.raw,
      'note,cluster=testcluster,hostname=node001 event="{\\"jobId\\":1 1735732902000000000',
    );
  });

  it('malformed-bytes.lp: 6 bad entries (bytes never allowed outside strings), 7 good ones', () => {
    const r = decodeSample('malformed-bytes.lp');
    const good = { ...tc, hostname: 'node001' };
    const expected = [4, 7, 10, 13, 16, 19].map((line, k) =>
      m(
        line,
        'good',
        good,
        { event: `after-b${k + 1}` },
        1735732910_000000000n + BigInt(k) * 1_000_000_000n,
      ),
    );
    expected.push(m(21, 'good', good, { event: 'nul:\0 tab:\t end' }, 1735732916_000000000n));
    assert.deepEqual(r.messages, expected);
    assert.deepEqual(errorsOf(r), [
      [3, 39, 'invalid utf-8 sequence'],
      [6, 42, 'invalid character 0x09 in tag value'],
      [9, 3, 'invalid character 0x00 in measurement'],
      [12, 72, 'unexpected text after timestamp'],
      [15, 15, 'invalid character 0x09 in comment line'],
      [18, 39, 'invalid character 0x7f in tag value'],
    ]);
    assert.equal(
      r.errors[0]!.raw,
      'note,cluster=testcluster,hostname=node\ufffd01 event="x" 1735732910000000000',
    );
    assert.equal(
      r.errors[3]!.raw,
      'note,cluster=testcluster,hostname=node001 event="x" 1735732913000000000\rnote2 event="y"',
    );
    assert.equal(r.errors[4]!.raw, '# comment with\ta tab');
  });

  it('timestamps.lp: every precision by magnitude, edge cases, 3 invalid times', () => {
    const r = decodeSample('timestamps.lp');
    const ev = (line: number, event: string, time: bigint) =>
      m(line, 'ts_test', { ...tc, hostname: 'node001' }, { event }, time);
    assert.deepEqual(r.messages, [
      ev(3, 'seconds', 1735732800_000000000n),
      ev(5, 'milliseconds', 1735732800_123000000n),
      ev(7, 'microseconds', 1735732800_123456000n),
      ev(9, 'nanoseconds', 1735732800_123456789n),
      ev(11, 'no timestamp', NOW),
      ev(13, 'trailing spaces', 1735732800_000000000n),
      ev(15, 'epoch zero', 0n),
      ev(17, 'negative', -1_000_000_000n),
      ev(19, 'tiny', 1735732_000000000n),
      ev(21, 'year 2100', 4102444800_000000000n),
      ev(29, 'seconds again, in ns', 1735732800_000000000n),
    ]);
    assert.deepEqual(errorsOf(r), [
      [23, 63, 'timestamp out of range'],
      [25, 60, 'invalid timestamp'],
      [27, 58, 'invalid timestamp'],
    ]);
  });

  it('decodes every sample identically from a Buffer and from a string', () => {
    for (const name of sampleNames()) {
      const bytes = readSample(name);
      const text = bytes.toString('utf8');
      if (Buffer.from(text).equals(bytes)) {
        assert.deepEqual(decode(text, { now: NOW }), decode(bytes, { now: NOW }), name);
      }
    }
  });
});
