/**
 * How config and plugin errors read. Every such error names the file, the key (a JSON pointer
 * inside that file), what was expected, what was found and how to fix it, in one sentence.
 */
import { createError, type CcesError, type ErrorCode } from '../errors.ts';

/** A place in the config: the file and a JSON pointer inside it (`/backend/batch_size`). */
export interface ConfigWhere {
  /** Absolute path of the config file that holds the key. */
  file: string;
  /** JSON pointer of the key inside that file; `''` is the whole file. */
  key: string;
}

/** The parts of one config problem. */
export interface Problem {
  /** What went wrong, a few words such as "invalid config value". */
  summary: string;
  where: ConfigWhere;
  expected: string;
  found: string;
  fix: string;
  /** The module path a plugin key resolved to, when there is one. */
  resolved?: string;
}

/** Builds the catalogued error of a problem; the parts are kept in `details`. */
export function problemError(code: ErrorCode, p: Problem, cause?: unknown): CcesError {
  const at = `${p.where.file} at ${showKey(p.where.key)}`;
  const resolved = p.resolved === undefined ? '' : ` (resolved path ${p.resolved})`;
  const what = `expected ${p.expected}, found ${p.found}`;
  const message = `${p.summary} in ${at}${resolved}: ${what}; ${p.fix}`;
  const details = {
    file: p.where.file,
    key: p.where.key,
    expected: p.expected,
    found: p.found,
    ...(p.resolved === undefined ? {} : { resolved: p.resolved }),
  };
  return createError(code, message, details, cause);
}

/**
 * Adds the file and key to a `CCES_ERR_CONFIG_DURATION` raised while reading `config` (which
 * sits at `where`): the key is the first one holding the offending text.
 */
export function durationError(config: unknown, where: ConfigWhere, err: unknown): CcesError {
  const value = (err as { details?: { value?: unknown } }).details?.value;
  const key = findKeyOf(config, value, where.key) ?? where.key;
  return problemError(
    'CCES_ERR_CONFIG_DURATION',
    {
      where: { file: where.file, key },
      summary: 'invalid duration',
      expected: 'a Go-style duration such as "300ms", "10s", "1h30m" or "48h"',
      found: JSON.stringify(value),
      fix: 'write numbers with units: ns, us, ms, s, m or h',
    },
    err,
  );
}

/** The JSON pointer of the first value equal to `value` inside `obj`, if any. */
export function findKeyOf(obj: unknown, value: unknown, base: string): string | undefined {
  if (obj === value) return base;
  if (obj === null || typeof obj !== 'object') return undefined;
  for (const [k, v] of Object.entries(obj)) {
    const hit = findKeyOf(v, value, childKey(base, k));
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** Shows a JSON pointer; the empty pointer (the whole file) reads as "the top level". */
export function showKey(key: string): string {
  return key === '' ? 'the top level' : key;
}

/** Appends one property name to a JSON pointer, escaping `~` and `/` as RFC 6901 says. */
export function childKey(key: string, name: string | number): string {
  return `${key}/${String(name).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** Describes a found value briefly: JSON text up to 60 characters, or "nothing". */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return value.name ? `a function (${value.name})` : 'a function';
  if (Array.isArray(value)) return `an array (${clip(safeJson(value))})`;
  if (value !== null && typeof value === 'object') return `an object (${clip(safeJson(value))})`;
  if (typeof value === 'bigint') return `${value}`;
  return clip(safeJson(value));
}

/** Joins names for a list in a message: `"a", "b", "c"`. */
export function listNames(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.map((n) => JSON.stringify(n)).join(', ');
}

/** "a"/"an" with a noun, for type names in messages. */
export function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // Cyclic or otherwise unserialisable values only reach here from plugin code; a plain
    // string form is still enough to point at the mistake.
    return String(value);
  }
}

function clip(text: string): string {
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}
