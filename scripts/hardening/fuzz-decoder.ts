/**
 * Long-form decoder fuzzing: `node --import tsx scripts/hardening/fuzz-decoder.ts
 * [--count 1000000] [--seed N]`. Decodes random and mutated samples and prints the
 * throughput, the peak RSS and the longest single decode; exits 1 on a throw.
 */
import { parseArgs } from 'node:util';
import { decode } from '../../core/lineproto/index.ts';
import { fuzzInput, loadSamples, Rng } from '../../test/hardening/fuzz-inputs.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
  },
});
const count = Number(values.count);
const rng = new Rng(Number(values.seed));
const samples = loadSamples();
const out = (line: string) => process.stdout.write(`${line}\n`);

let bytes = 0;
let messages = 0;
let errors = 0;
let longest = { ms: 0, index: -1, size: 0 };
const started = performance.now();
for (let i = 0; i < count; i++) {
  const input = fuzzInput(rng, samples);
  bytes += input.length;
  const t0 = performance.now();
  try {
    const res = decode(input, { now: 1_767_000_000_000_000_000n });
    messages += res.messages.length;
    errors += res.errors.length;
  } catch (err) {
    out(`input ${i} (seed ${values.seed}) threw: ${(err as Error).stack}`);
    process.exit(1);
  }
  const ms = performance.now() - t0;
  if (ms > longest.ms) longest = { ms, index: i, size: input.length };
  if (i > 0 && i % 250_000 === 0)
    out(`${i} inputs, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
}
const secs = (performance.now() - started) / 1000;
out(
  `inputs: ${count} (${(bytes / 2 ** 20).toFixed(1)} MiB), messages ${messages}, errors ${errors}`,
);
out(
  `throughput: ${(count / secs).toFixed(0)} inputs/s, ${(bytes / 2 ** 20 / secs).toFixed(1)} MiB/s, ${secs.toFixed(1)} s`,
);
out(`max RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
out(`longest decode: ${longest.ms.toFixed(2)} ms (input ${longest.index}, ${longest.size} bytes)`);
