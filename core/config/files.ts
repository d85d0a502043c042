/**
 * Reading config files: JSON only, with errors that name the file, the key that referred to
 * it, and the line and column of a syntax error.
 */
import { readFileSync } from 'node:fs';
import { createError } from '../errors.ts';
import { problemError, type ConfigWhere } from './problem.ts';

/**
 * Reads and parses one JSON config file. `ref` is the key that named the file (absent for
 * the central file given on the command line). Throws `CCES_ERR_CONFIG_NOT_FOUND` or
 * `CCES_ERR_CONFIG_PARSE`.
 */
export function readJsonFile(path: string, ref?: ConfigWhere): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw notFound(path, (err as NodeJS.ErrnoException).code ?? 'an unreadable file', ref, err);
  }

  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (err) {
    const reason = (err as Error).message;
    return throwParse(path, position(body, reason), reason, err);
  }
}

function notFound(path: string, code: string, ref: ConfigWhere | undefined, cause: unknown) {
  const found = code === 'ENOENT' ? 'no such file' : `an unreadable file (${code})`;
  if (ref) {
    return problemError(
      'CCES_ERR_CONFIG_NOT_FOUND',
      {
        summary: 'config file not readable',
        where: ref,
        resolved: path,
        expected: 'a JSON config file',
        found,
        fix:
          'create the file or correct the path ' +
          '(relative paths resolve against the folder of the file that names them)',
      },
      cause,
    );
  }
  return createError(
    'CCES_ERR_CONFIG_NOT_FOUND',
    `config file ${path} not readable: expected a JSON config file, found ${found}; ` +
      'pass an existing file with --config',
    { file: path, expected: 'a JSON config file', found },
    cause,
  );
}

function throwParse(
  path: string,
  at: { line: number; column: number } | undefined,
  reason: string,
  cause: unknown,
): never {
  const where = at ? ` at line ${at.line}, column ${at.column}` : '';
  throw createError(
    'CCES_ERR_CONFIG_PARSE',
    `config file ${path} is not valid JSON${where}: ` +
      `expected JSON, found a syntax error (${reason}); ` +
      'fix the syntax (JSON allows no comments and no trailing commas)',
    { file: path, ...at, expected: 'JSON', found: reason },
    cause,
  );
}

/** Line and column (1-based) of the "position N" that V8's JSON errors mention. */
function position(text: string, reason: string): { line: number; column: number } | undefined {
  const m = /position (\d+)/.exec(reason);
  if (!m) return reason.includes('end of JSON') ? lineColumn(text, text.length) : undefined;
  return lineColumn(text, Number(m[1]));
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
