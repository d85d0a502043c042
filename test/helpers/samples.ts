/**
 * Access to the real-world line-protocol samples in ../shared/samples (beside the repo, in
 * development and in CI alike).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** Root of the repository. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The samples folder. */
export const samplesDir = resolve(repoRoot, '../shared/samples');

/** Names of every `.lp` sample file. */
export function sampleNames(): string[] {
  return readdirSync(samplesDir).filter((f) => f.endsWith('.lp')).sort();
}

/** The raw bytes of one sample. */
export function readSample(name: string): Buffer {
  return readFileSync(resolve(samplesDir, name));
}
