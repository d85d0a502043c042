/**
 * `npm run bench`: runs every benchmark under scripts/bench/ in turn (or those named on the
 * command line) and prints their figures. Each module default-exports an async function
 * that receives a `report(line)` callback.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';

type Bench = (report: (line: string) => void) => Promise<void>;

const dir = fileURLToPath(new URL('./bench/', import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

for (const file of files) {
  const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default: Bench };
  process.stdout.write(`\n## ${file.replace(/\.ts$/, '')}\n`);
  await mod.default((line) => process.stdout.write(`${line}\n`));
}
