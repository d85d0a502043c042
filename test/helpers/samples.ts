/**
 * Access to the real-world line-protocol samples: the folder `CCES_SAMPLES_DIR` names, else
 * ../shared/samples beside the repo (in development and in CI alike).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

/** Root of the repository. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The samples folder when `CCES_SAMPLES_DIR` is not set. */
export const defaultSamplesDir = resolve(repoRoot, '../shared/samples');

/**
 * The samples folder `env` names: `CCES_SAMPLES_DIR` (relative to the working directory) or
 * the default. Throws when that folder does not exist, naming it, the variable and the default.
 */
export function resolveSamplesDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = samplesDirOf(env);
  if (existsSync(dir)) return dir;
  const set = env.CCES_SAMPLES_DIR;
  const from = set ? `CCES_SAMPLES_DIR="${set}"` : 'the default; CCES_SAMPLES_DIR is not set';
  throw new Error(
    `samples folder ${dir} does not exist (${from}); set CCES_SAMPLES_DIR to the folder ` +
      `of the .lp samples or place them at ${defaultSamplesDir}`,
  );
}

/**
 * The samples folder of this run. Not checked on import, so that a test file that needs only
 * `repoRoot` runs without samples; `sampleNames` and `readSample` throw when it is missing.
 */
export const samplesDir = samplesDirOf(process.env);

let checked = false;

function samplesDirOf(env: NodeJS.ProcessEnv): string {
  return env.CCES_SAMPLES_DIR ? resolve(env.CCES_SAMPLES_DIR) : defaultSamplesDir;
}

function checkedSamplesDir(): string {
  if (!checked) resolveSamplesDir();
  checked = true;
  return samplesDir;
}

/** Names of every `.lp` sample file. */
export function sampleNames(): string[] {
  return readdirSync(checkedSamplesDir())
    .filter((f) => f.endsWith('.lp'))
    .sort();
}

/** The raw bytes of one sample. */
export function readSample(name: string): Buffer {
  return readFileSync(resolve(checkedSamplesDir(), name));
}
