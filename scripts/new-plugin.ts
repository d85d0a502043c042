/**
 * `npm run new-plugin -- <storage|receiver|sink> <name> [--dir <folder>]`: writes a new
 * plugin folder (default `plugins/<name>/`) with its module, a conformance config, a test
 * that runs the conformance kit, and a README.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createError } from '../core/errors.ts';
import { makeDirs } from '../core/make-dirs.ts';
import {
  pluginFiles,
  SCAFFOLD_KINDS,
  type ScaffoldKind,
  type SdkImports,
} from './new-plugin/templates.ts';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/** Writes the plugin and returns its folder and file names. */
export function scaffoldPlugin(
  kind: string,
  name: string,
  opts: { dir?: string; cwd?: string } = {},
): { dir: string; files: string[] } {
  if (!SCAFFOLD_KINDS.includes(kind as ScaffoldKind)) {
    throw invalid(`unknown kind "${kind}": expected one of ${SCAFFOLD_KINDS.join(', ')}`);
  }
  if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name)) {
    throw invalid(`bad name "${name}": expected kebab-case such as "site-syslog"`);
  }
  const dir = resolve(opts.cwd ?? process.cwd(), opts.dir ?? join('plugins', name));
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw invalid(`folder ${dir} is not empty: expected a new or empty folder`);
  }

  const files = pluginFiles(kind as ScaffoldKind, name, importsFor(dir));
  makeDirs(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
  return { dir, files: Object.keys(files) };
}

/**
 * Inside this repository the SDK is imported by relative path. Elsewhere it is imported by
 * package name, and the package installs this checkout and the store's tsx.
 */
function importsFor(dir: string): SdkImports {
  const up = relative(dir, repoRoot).split(sep).join('/') || '.';
  const fromRoot = relative(repoRoot, dir);
  if (!fromRoot.startsWith('..') && !isAbsolute(fromRoot)) {
    return { sdk: `${up}/core/index.ts`, kit: `${up}/test/conformance/kit.ts` };
  }
  const store = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const install = { store: `file:${up}`, tsx: store.dependencies.tsx! };
  return { sdk: 'cc-event-store', kit: 'cc-event-store/conformance', install };
}

/** What to run next, as the command prints it after creating `dir`. */
export function nextSteps(dir: string, ownPackage: boolean): string {
  if (ownPackage) return `test it: cd ${dir} && npm install && npm test\n`;
  const test = relative(repoRoot, join(dir, 'conformance.test.ts')).split(sep).join('/');
  return `test it, in ${resolve(repoRoot)}: node --import tsx --test ${test}\n`;
}

function invalid(message: string) {
  return createError('CCES_ERR_SCAFFOLD_INVALID', `new-plugin: ${message}`, {});
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { dir: { type: 'string' } },
  });
  try {
    const [kind = '', name = ''] = positionals;
    // npm runs scripts in the store's folder; INIT_CWD is where the command was typed.
    const cwd = process.env.INIT_CWD ?? process.cwd();
    const { dir, files } = scaffoldPlugin(kind, name, { dir: values.dir, cwd });
    process.stdout.write(`created ${dir}: ${files.join(', ')}\n`);
    process.stdout.write(nextSteps(dir, files.includes('package.json')));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    const usage = 'usage: npm run new-plugin -- <storage|receiver|sink> <name> [--dir <folder>]';
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
}
