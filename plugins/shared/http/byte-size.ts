/**
 * Sizes in configs: a number of bytes or a string such as "64MiB", "512KiB", "10MB".
 */
import { Type } from 'typebox';
import { createError } from '../../../core/errors.ts';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
};

/** Schema of a size setting: bytes as an integer, or a number with a unit. */
export const ByteSizeSchema = Type.Union([
  Type.Integer({ minimum: 1 }),
  Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*([kKmMgG]i?[bB]?|[bB])?\\s*$' }),
]);

/**
 * Reads a size to bytes. Binary units (KiB, MiB, GiB, and K, M, G alone) count 1024s;
 * decimal ones (kB, MB, GB) count 1000s. Throws `CCES_ERR_CONFIG_INVALID` naming `key`.
 */
export function parseByteSize(value: number | string, key: string): number {
  if (typeof value === 'number') return checked(value, value, key);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  const factor = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || factor === undefined) throw invalid(value, key);
  return checked(Math.floor(Number(m[1]) * factor), value, key);
}

function checked(bytes: number, value: number | string, key: string): number {
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw invalid(value, key);
  return bytes;
}

function invalid(value: number | string, key: string) {
  return createError(
    'CCES_ERR_CONFIG_INVALID',
    `${key}: "${value}" is not a size; write bytes (65536) or a size such as "64MiB" or "10MB"`,
    { key, value },
  );
}
