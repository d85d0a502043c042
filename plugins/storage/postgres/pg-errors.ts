/**
 * Sorting node-postgres errors: the server is away (hold the writes and retry), one row is
 * bad (reject that row alone), or anything else (fail the batch).
 */
import { createError, type CcesError } from '../../../core/errors.ts';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

// pg raises these without a code when a connection ends or cannot be made in time.
const CONNECTION_MESSAGES = new RegExp(
  [
    'Connection terminated',
    'timeout exceeded when trying to connect',
    'not queryable',
    'Connection timeout',
    'connection error',
  ].join('|'),
  'i',
);

/** The SQLSTATE or system error code of an error, if any. */
export function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Whether the database is away or cannot take writes for now: network errors, SQLSTATE
 * classes 08 (connection), 53 (insufficient resources: disk full, too many connections),
 * 57P (shutdown, crash, starting up) and 25006 (a read-only standby after a failover).
 */
export function isUnavailable(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code)) return true;
    return (
      code.startsWith('08') || code.startsWith('53') || code.startsWith('57P') || code === '25006'
    );
  }
  return err instanceof Error && CONNECTION_MESSAGES.test(err.message);
}

/**
 * Whether an error concerns the data of a row: SQLSTATE classes 22 (data exception), 23
 * (integrity) and 54 (program limit, such as an index entry above the B-tree maximum).
 */
export function isRowError(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && /^(22|23|54)/.test(code);
}

/** Whether retrying the same transaction may succeed: class 40 (serialization, deadlock). */
export function isTransient(err: unknown): boolean {
  return codeOf(err)?.startsWith('40') ?? false;
}

/** The rejection reason of a row the server refused. */
export function rowReason(err: unknown): string {
  return `postgres_${codeOf(err) ?? 'error'}`;
}

/** Wraps a failure of `what` in the catalogued error its kind calls for. */
export function storageError(
  what: string,
  err: unknown,
  fallback: 'CCES_ERR_STORAGE_WRITE' | 'CCES_ERR_STORAGE_QUERY' | 'CCES_ERR_STORAGE_OPEN',
  details: Record<string, unknown> = {},
): CcesError {
  const code = codeOf(err);
  if (isUnavailable(err)) {
    return createError(
      'CCES_ERR_STORAGE_UNAVAILABLE',
      `postgres is unavailable: ${what} failed`,
      { ...details, pgCode: code },
      err,
    );
  }
  return createError(fallback, `postgres: ${what} failed`, { ...details, pgCode: code }, err);
}
