/**
 * Entry structure, escapes, line handling, error reporting and text validity of the decoder.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decode } from '../../../core/lineproto/index.ts';
import type { DecodeResult } from '../../../core/lineproto/index.ts';
import { m, nul } from './expect.ts';

function ns(input: Buffer | string): DecodeResult {
  return decode(input, { precision: 'ns', now: 99n });
}

/** [line, column, reason] of each error. */
function errs(input: Buffer | string): [number, number, string][] {
  return ns(input).errors.map((e) => [e.line, e.column, e.reason]);
}

describe('decode: entries', () => {
  it('reads measurement, tags, fields and timestamp', () => {
    const r = ns('cpu,host=a,rack=r1 value=1.5,ok=t 1700000000000000000\n');
    assert.deepEqual(r, {
      messages: [
        m(1, 'cpu', { host: 'a', rack: 'r1' }, { value: 1.5, ok: true }, 1700000000000000000n),
      ],
      errors: [],
    });
  });

  it('builds plain messages whose tags and fields have no prototype', () => {
    const msg = ns('m,__proto__=x,constructor=y __proto__="z" 1').messages[0]!;
    assert.equal(Object.getPrototypeOf(msg), Object.prototype);
    assert.equal(Object.getPrototypeOf(msg.tags), null);
    assert.equal(Object.getPrototypeOf(msg.fields), null);
    assert.deepEqual(Object.keys(msg.tags), ['__proto__', 'constructor']);
    assert.equal(msg.tags.__proto__, 'x');
    assert.equal(msg.fields.__proto__, 'z');
  });

  it('allows several spaces between the sections', () => {
    assert.deepEqual(ns('m    f=1    2').messages, [m(1, 'm', {}, { f: 1 }, 2n)]);
    assert.deepEqual(ns('m,a=b   f=1 2').messages, [m(1, 'm', { a: 'b' }, { f: 1 }, 2n)]);
  });

  it('keeps the last value of a duplicate tag key', () => {
    assert.deepEqual(ns('m,h=a,h=b f=1 1').messages[0]!.tags, nul({ h: 'b' }));
  });

  it('reports structural errors with their column', () => {
    assert.deepEqual(errs('job'), [[1, 4, 'missing field set']]);
    assert.deepEqual(errs('job\r\n'), [[1, 4, 'missing field set']]);
    assert.deepEqual(errs('job,a=b'), [[1, 8, 'missing field set']]);
    assert.deepEqual(errs('job '), [[1, 5, 'expected field key']]);
    assert.deepEqual(errs(',a=b f=1'), [[1, 1, 'missing measurement']]);
    assert.deepEqual(errs('m,'), [[1, 3, 'expected tag key after comma']]);
    assert.deepEqual(errs('m, a=b f=1'), [[1, 3, 'expected tag key after comma; got white space']]);
    assert.deepEqual(errs('m,=b f=1'), [[1, 3, 'empty tag key']]);
    assert.deepEqual(errs('m,,a=b f=1'), [[1, 3, 'empty tag key']]);
    assert.deepEqual(errs('m,a f=1'), [[1, 4, "expected '=' after tag key"]]);
    assert.deepEqual(errs('m,a,b=c f=1'), [[1, 4, "expected '=' after tag key"]]);
    assert.deepEqual(errs('m,a= f=1'), [[1, 5, 'empty tag value']]);
    assert.deepEqual(errs('m,a=,b=c f=1'), [[1, 5, 'empty tag value']]);
    assert.deepEqual(errs('m,a=b=c f=1'), [[1, 6, "unescaped '=' in tag value"]]);
  });

  it('refuses control characters outside strings', () => {
    assert.deepEqual(errs('m\0x f=1'), [[1, 2, 'invalid character 0x00 in measurement']]);
    assert.deepEqual(errs('\tm f=1'), [[1, 1, 'invalid character 0x09 in measurement']]);
    assert.deepEqual(errs('m,a\x01=b f=1'), [[1, 4, 'invalid character 0x01 in tag key']]);
    assert.deepEqual(errs('m,a=b\x7f f=1'), [[1, 6, 'invalid character 0x7f in tag value']]);
    assert.deepEqual(errs('m,a=b\tf=1'), [[1, 6, 'invalid character 0x09 in tag value']]);
    assert.deepEqual(errs('m f\x1b=1'), [[1, 4, 'invalid character 0x1b in field key']]);
    assert.deepEqual(errs('m f=1\t2'), [[1, 5, 'invalid float value']]);
  });
});

describe('decode: escapes', () => {
  it('resolves \\, and \\space in measurements; = and other backslashes are literal', () => {
    assert.equal(ns(String.raw`a\,b\ c f=1 1`).messages[0]!.name, 'a,b c');
    assert.equal(ns('a=b f=1 1').messages[0]!.name, 'a=b');
    assert.equal(ns(String.raw`a\=b\x\\c f=1 1`).messages[0]!.name, String.raw`a\=b\x\\c`);
    assert.equal(ns(String.raw`a\\,t=v f=1 1`).messages[0]!.name, String.raw`a\,t=v`);
  });

  it('resolves \\, \\= and \\space in tag keys, tag values and field keys', () => {
    const msg = ns(String.raw`m,k\,1\=\ x=v\,1\=\ y f\,\=\ k=1 1`).messages[0]!;
    assert.deepEqual(msg.tags, nul({ 'k,1= x': 'v,1= y' }));
    assert.deepEqual(msg.fields, nul({ 'f,= k': 1 }));
  });

  it('keeps other backslashes literally, doubled ones included', () => {
    const msg = ns(String.raw`m,a=C:\data,b=a\\b,c=\n f\x=1 1`).messages[0]!;
    assert.deepEqual(
      msg.tags,
      nul({ a: String.raw`C:\data`, b: String.raw`a\\b`, c: String.raw`\n` }),
    );
    assert.deepEqual(msg.fields, nul({ [String.raw`f\x`]: 1 }));
  });

  it('reads a backslash before a delimiter as an escape, not as the end of a value', () => {
    assert.deepEqual(errs(String.raw`m,a=C:\,b=c f=1 1`), [[1, 10, "unescaped '=' in tag value"]]);
    assert.deepEqual(errs('m,a=b\\'), [[1, 7, 'missing field set']]);
  });

  it('keeps quotes in tag values', () => {
    assert.deepEqual(ns('m,l="info" f=1 1').messages[0]!.tags, nul({ l: '"info"' }));
  });
});

describe('decode: lines', () => {
  it('takes LF and CR LF as line ends, also mixed and without a final one', () => {
    const r = ns('m f=1 1\r\nm f=2 2\nm f=3 3\r\n\r\nm f=4 4');
    assert.deepEqual(
      r.messages.map((msg) => [msg.line, msg.fields.f]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
        [5, 4],
      ],
    );
    assert.deepEqual(r.errors, []);
  });

  it('refuses a lone CR, also at the end of the input', () => {
    assert.deepEqual(errs('m f=1 1\rm f=2 2\nm f=3 3'), [
      [1, 8, 'unexpected text after timestamp'],
    ]);
    assert.deepEqual(errs('m f=1\rx'), [[1, 6, 'lone carriage return']]);
    assert.deepEqual(errs('m f=1 1\r'), [[1, 8, 'unexpected text after timestamp']]);
    assert.deepEqual(errs('m,a=b\rc f=1'), [[1, 6, 'lone carriage return']]);
    assert.deepEqual(errs('\r'), [[1, 1, 'lone carriage return']]);
    assert.deepEqual(ns('m f=1 1\rm f=2 2\nm f=3 3').messages, [m(2, 'm', {}, { f: 3 }, 3n)]);
  });

  it('skips blank lines, space-only lines, leading spaces and comments', () => {
    const input =
      '\n   \n# comment\n   # indented comment\r\n#\n  m f=1 1\n \r\n\n#,a=b f=1\nm f=2 2\n';
    assert.deepEqual(ns(input), {
      messages: [m(6, 'm', {}, { f: 1 }, 1n), m(10, 'm', {}, { f: 2 }, 2n)],
      errors: [],
    });
  });

  it('refuses a comment line holding a control character', () => {
    const r = ns('# tab\there\nm f=1 1\n# nul \0\n# del \x7f');
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.column, e.reason, e.raw]),
      [
        [1, 6, 'invalid character 0x09 in comment line', '# tab\there'],
        [3, 7, 'invalid character 0x00 in comment line', '# nul \0'],
        [4, 7, 'invalid character 0x7f in comment line', '# del \x7f'],
      ],
    );
    assert.deepEqual(r.messages, [m(2, 'm', {}, { f: 1 }, 1n)]);
  });

  it('decodes empty and blank inputs to nothing', () => {
    for (const input of ['', '\n', '\r\n', '   ', '\n\n\n', '# only a comment', Buffer.alloc(0)]) {
      assert.deepEqual(ns(input), { messages: [], errors: [] });
    }
  });

  it('skips a byte order mark starting the input; elsewhere it is part of the name', () => {
    for (const input of [
      '\ufeffm f=1 1\n\ufeffm f=2 2',
      Buffer.from('\ufeffm f=1 1\n\ufeffm f=2 2'),
    ]) {
      const r = ns(input);
      assert.deepEqual(
        r.messages.map((msg) => [msg.line, msg.name]),
        [
          [1, 'm'],
          [2, '\ufeffm'],
        ],
      );
    }
    assert.deepEqual(errs('\ufeffm f=1 1 x'), [[1, 9, 'unexpected text after timestamp']]);
    assert.deepEqual(ns('\ufeff'), { messages: [], errors: [] });
  });

  it('counts the raw line feeds of strings, so later entries keep their physical line', () => {
    const r = ns('m s="a\nb\r\nc" 1\nm s="one" 2\n\nm s="x\n\ny" 3\nm f=1 4');
    assert.deepEqual(
      r.messages.map((msg) => [msg.line, msg.fields.s ?? msg.fields.f]),
      [
        [1, 'a\nb\r\nc'],
        [4, 'one'],
        [6, 'x\n\ny'],
        [9, 1],
      ],
    );
  });

  it('resumes after the line end that follows an error found inside a multi-line entry', () => {
    const r = ns('m s="a\nb" junk\nm f=1 1\nm s="c\nd"x\nm f=2 2');
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.column, e.reason, e.raw]),
      [
        [1, 11, 'invalid timestamp', 'm s="a\nb" junk'],
        [4, 10, 'unexpected character after field', 'm s="c\nd"x'],
      ],
    );
    assert.deepEqual(r.messages, [m(3, 'm', {}, { f: 1 }, 1n), m(6, 'm', {}, { f: 2 }, 2n)]);
  });

  it('ends the input at an unterminated string, keeping the entries before it', () => {
    const r = ns('m f=1 1\n  m s="open 2\nm f=2 2\nm f=3 3\n');
    assert.deepEqual(r.messages, [m(1, 'm', {}, { f: 1 }, 1n)]);
    assert.deepEqual(r.errors, [
      {
        line: 2,
        column: 7,
        reason: 'expected closing quote',
        raw: 'm s="open 2\nm f=2 2\nm f=3 3',
      },
    ]);
  });
});

describe('decode: errors', () => {
  it('keeps every good entry around bad ones', () => {
    const r = ns('a f=1 1\nbad\nb f=2 2\nc,t= f=3\nd f=4 4\n');
    assert.deepEqual(
      r.messages.map((msg) => [msg.line, msg.name]),
      [
        [1, 'a'],
        [3, 'b'],
        [5, 'd'],
      ],
    );
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.column, e.raw]),
      [
        [2, 4, 'bad'],
        [4, 5, 'c,t= f=3'],
      ],
    );
  });

  it('gives the column from the start of the line, leading spaces included', () => {
    assert.deepEqual(errs('   m,a= f=1'), [[1, 8, 'empty tag value']]);
  });

  it('bounds the raw text of an error to 64 KiB', () => {
    const r = ns(`m,t= f="${'x'.repeat(100_000)}" 1\nm f=1 1`);
    assert.equal(r.errors[0]!.raw.length, 65536);
    assert.ok(r.errors[0]!.raw.startsWith('m,t= f="xxx'));
    assert.equal(r.messages.length, 1);
  });
});

describe('decode: text', () => {
  it('decodes UTF-8 in names, tags and strings, from a Buffer and a string alike', () => {
    const text = 'mess€,hôst=nöde\\ 1,ключ=значение fïeld="ü\\"🚀\\\\",n=1i 1\nm f=1 2';
    const expected = [
      m(1, 'mess€', { hôst: 'nöde 1', ключ: 'значение' }, { fïeld: 'ü"🚀\\', n: 1n }, 1n),
      m(2, 'm', {}, { f: 1 }, 2n),
    ];
    assert.deepEqual(ns(text).messages, expected);
    assert.deepEqual(ns(Buffer.from(text)).messages, expected);
  });

  it('refuses entries with invalid UTF-8 anywhere, keeping the others', () => {
    const input = Buffer.concat([
      Buffer.from('m,t=a'),
      Buffer.from([0xff]),
      Buffer.from(' f=1 1\n'),
      Buffer.from('m s="ok ü" 2\n'),
      Buffer.from('m s="'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('" 3\n'),
      Buffer.from('# comment '),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('\n'),
      Buffer.from('m,t=a f="x" 4 '),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from('\n'),
      Buffer.from('m f=5 5'),
    ]);
    const r = ns(input);
    assert.deepEqual(r.messages, [m(2, 'm', {}, { s: 'ok ü' }, 2n), m(6, 'm', {}, { f: 5 }, 5n)]);
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.column, e.reason]),
      [
        [1, 6, 'invalid utf-8 sequence'],
        [3, 6, 'invalid utf-8 sequence'],
        [4, 11, 'invalid utf-8 sequence'],
        [5, 15, 'invalid utf-8 sequence'],
      ],
    );
    assert.equal(r.errors[0]!.raw, 'm,t=a\ufffd f=1 1');
  });

  it('refuses entries of a string input that hold lone surrogates', () => {
    const r = ns('m s="\ud800" 1\nm s="\ud83d\ude80" 2\nm,t=\udc00 f=1 3');
    assert.deepEqual(r.messages, [m(2, 'm', {}, { s: '🚀' }, 2n)]);
    assert.deepEqual(
      r.errors.map((e) => [e.line, e.reason]),
      [
        [1, 'invalid utf-8 sequence'],
        [3, 'invalid utf-8 sequence'],
      ],
    );
  });
});
