/**
 * Random and mutated line-protocol inputs for fuzzing the decoder: byte flips, cuts,
 * splices and repeats of the real samples, plus random bytes and random token soup. A
 * seeded generator makes every failure reproducible from its seed and index.
 */
import { readSample, sampleNames } from '../helpers/samples.ts';

/** xorshift32: fast, seeded, good enough to pick mutations. */
export class Rng {
  #s: number;

  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }

  /** A uint32. */
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : this.next() % n;
  }
}

// Bytes that mean something to the decoder, so mutations hit its branches often.
const SPECIAL = Buffer.from(' ,="\\\n\r\t=-.0123456789eEiuTtFf#\u0000\u00ff');
const TOKENS = [
  'event',
  'log',
  'cluster=',
  'hostname=',
  '="',
  '"',
  '\\',
  '\\"',
  ',',
  ' ',
  '=',
  '\n',
  '\r\n',
  '1i',
  '18446744073709551615u',
  '-9223372036854775809i',
  '1e309',
  'NaN',
  'true',
  '1767000000',
  '1767000000000000000',
  '99999999999999999999999',
  '#',
  '\u00e9',
  '\ud83d\ude00',
  '\xff\xfe',
];

/** The samples as buffers, read once. */
export function loadSamples(): Buffer[] {
  return sampleNames().map((n) => readSample(n));
}

/** The `i`-th input of a run: a mix of mutated samples, random bytes and token soup. */
export function fuzzInput(rng: Rng, samples: readonly Buffer[]): Buffer {
  const pick = rng.below(10);
  if (pick < 6) return mutate(rng, samples[rng.below(samples.length)]!, samples);
  if (pick < 8) return tokenSoup(rng);
  const out = Buffer.allocUnsafe(rng.below(512));
  for (let i = 0; i < out.length; i++) out[i] = rng.below(256);
  return out;
}

function mutate(rng: Rng, sample: Buffer, samples: readonly Buffer[]): Buffer {
  let buf: Buffer = Buffer.from(sample);
  const rounds = 1 + rng.below(8);
  for (let r = 0; r < rounds; r++) buf = mutateOnce(rng, buf, samples);
  return buf;
}

function mutateOnce(rng: Rng, buf: Buffer, samples: readonly Buffer[]): Buffer {
  const at = rng.below(buf.length + 1);
  switch (rng.below(7)) {
    case 0: // flip one byte to a random value
      if (buf.length > 0) buf[rng.below(buf.length)] = rng.below(256);
      return buf;
    case 1: // set one byte to a special character
      if (buf.length > 0) buf[rng.below(buf.length)] = SPECIAL[rng.below(SPECIAL.length)]!;
      return buf;
    case 2: // cut
      return Buffer.concat([buf.subarray(0, at), buf.subarray(at + rng.below(64))]);
    case 3: // insert a token
      return Buffer.concat([buf.subarray(0, at), Buffer.from(pickToken(rng)), buf.subarray(at)]);
    case 4: {
      // splice in a piece of another sample
      const other = samples[rng.below(samples.length)]!;
      const from = rng.below(other.length);
      const piece = other.subarray(from, from + rng.below(256));
      return Buffer.concat([buf.subarray(0, at), piece, buf.subarray(at)]);
    }
    case 5: {
      // repeat a slice
      const slice = buf.subarray(at, at + rng.below(128));
      const repeated = Buffer.concat(new Array<Buffer>(1 + rng.below(4)).fill(slice));
      return Buffer.concat([buf.subarray(0, at), repeated, buf.subarray(at)]);
    }
    default: // truncate
      return buf.subarray(0, at);
  }
}

function pickToken(rng: Rng): string {
  return TOKENS[rng.below(TOKENS.length)]!;
}

function tokenSoup(rng: Rng): Buffer {
  let s = '';
  const n = 1 + rng.below(40);
  for (let i = 0; i < n; i++) s += pickToken(rng);
  return Buffer.from(s);
}
