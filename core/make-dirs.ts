/**
 * Creating the folder of a configured path without Node's recursive mkdir.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Creates `dir` and its missing parents, one level at a time from the nearest ancestor
 * that exists, and throws the first error (such as ENOENT, EACCES or ENOTDIR) as `mkdir`
 * gave it. A `dir` that exists already as a folder is left as it is; as a file, it is EEXIST.
 *
 * `mkdirSync(dir, { recursive: true })` is not used: where a parent answers ENOENT while
 * its own parent answers EEXIST, as under /proc, it retries forever at full CPU, and the
 * process no longer answers SIGTERM.
 */
export function makeDirs(dir: string): void {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let at = target; !existsSync(at); at = dirname(at)) {
    missing.push(at);
    if (dirname(at) === at) break;
  }

  // A file where the folder should be: mkdir says so (EEXIST) rather than a later open.
  if (missing.length === 0 && !isDirectory(target)) mkdirSync(target);

  for (const level of missing.reverse()) {
    try {
      mkdirSync(level);
    } catch (err) {
      // Another process may have created the same folder in between.
      const raced = (err as NodeJS.ErrnoException).code === 'EEXIST' && isDirectory(level);
      if (!raced) throw err;
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
