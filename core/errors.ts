/**
 * The error catalogue. Every error the store raises on purpose carries a stable `code`
 * (`CCES_ERR_<AREA>_<WHAT>`). Callers branch on `err.code`, never on `instanceof`, because a
 * plugin may bundle its own copy of this module.
 */

/** Every code the store raises, with the sentence that explains it. */
export const ErrorCodes = {
  CCES_ERR_CONFIG_NOT_FOUND: 'a config file does not exist',
  CCES_ERR_CONFIG_PARSE: 'a config file is not valid JSON',
  CCES_ERR_CONFIG_INVALID: 'a config value does not match its schema',
  CCES_ERR_CONFIG_UNKNOWN_KEY: 'a config file holds a key the schema does not know',
  CCES_ERR_CONFIG_DURATION: 'a duration is not a Go-style duration string such as "10s" or "1h30m"',
  CCES_ERR_PLUGIN_NOT_FOUND: 'a plugin module could not be resolved',
  CCES_ERR_PLUGIN_IMPORT: 'a plugin module failed while it was imported',
  CCES_ERR_PLUGIN_NO_DEFAULT_EXPORT: 'a plugin module has no default export',
  CCES_ERR_PLUGIN_BAD_SHAPE: 'a plugin default export lacks a required member',
  CCES_ERR_PLUGIN_WRONG_KIND: 'a plugin is of another kind than the config slot needs',
  CCES_ERR_PLUGIN_CONTRACT_VERSION: 'a plugin supports no contract version this host offers',
  CCES_ERR_PLUGIN_UNKNOWN_TYPE: 'a plugin type name is neither built in nor a path or package',
  CCES_ERR_PLUGIN_CREATE: 'a plugin factory threw',
  CCES_ERR_PLUGIN_START: 'a plugin failed to start',
  CCES_ERR_PLUGIN_START_TIMEOUT: 'a plugin did not finish starting in time',
  CCES_ERR_LP_SYNTAX: 'a line-protocol entry is malformed',
  CCES_ERR_INGEST_OVERLOADED: 'the write queue is full; retry later',
  CCES_ERR_INGEST_CLOSED: 'the store is shutting down and takes no more writes',
  CCES_ERR_STORAGE_WRITE: 'the storage failed to commit a batch',
  CCES_ERR_STORAGE_UNAVAILABLE: 'the storage cannot be reached',
  CCES_ERR_STORAGE_OPEN: 'the storage could not be opened or migrated',
  CCES_ERR_STORAGE_QUERY: 'the storage failed to answer a query',
  CCES_ERR_STORAGE_UNSUPPORTED: 'the storage backend does not offer this ability',
  CCES_ERR_QUERY_INVALID: 'a query parameter is invalid',
  CCES_ERR_AUTH_KEY_INVALID: 'the configured JWT public key is unusable',
  CCES_ERR_AUTH_MISSING: 'the request carries no token',
  CCES_ERR_AUTH_INVALID: 'the token is malformed, wrongly signed or of a refused algorithm',
  CCES_ERR_AUTH_EXPIRED: 'the token has expired',
  CCES_ERR_AUTH_FORBIDDEN: 'the token lacks the role this route needs',
  CCES_ERR_RULE_INVALID: 'a process_messages rule does not compile',
  CCES_ERR_NATS_CONNECT: 'the NATS server cannot be reached',
  CCES_ERR_NATS_JETSTREAM: 'a JetStream stream or consumer is missing or cannot be set up',
  CCES_ERR_INGEST_REJECTED: 'entries of an input were refused; the good ones, if any, were stored',
  CCES_ERR_HTTP_BODY_TOO_LARGE: 'a request body (after decompression) exceeds the size limit',
  CCES_ERR_HTTP_BODY_INVALID: 'a request body cannot be read (such as broken gzip)',
  CCES_ERR_HTTP_UNSUPPORTED_ENCODING: 'the Content-Encoding of a body is not gzip or deflate',
  CCES_ERR_HTTP_NOT_FOUND: 'no route answers this method and path',
  CCES_ERR_HTTP_LISTEN: 'an HTTP server cannot listen on its configured address and port',
  CCES_ERR_HTTP_INTERNAL: 'a request failed for an unexpected reason',
  CCES_ERR_LP_PRECISION: 'a timestamp precision is not one of s, ms, us, ns or auto',
  CCES_ERR_LP_ENCODE: 'a message cannot be written as line protocol (such as an empty tag value)',
  CCES_ERR_SCAFFOLD_INVALID: 'new-plugin got an unknown kind, a bad name or a folder in use',
  CCES_ERR_SINK_DELIVERY: 'a sink gave up delivering a batch after its retries',
  CCES_ERR_STREAM_SLOW_CLIENT: 'a live-tail client read too slowly and was cut off',
  CCES_ERR_STREAM_CLOSED: 'the server ended a live tail because it is shutting down',
  CCES_ERR_JOB_NOT_FOUND: 'no start or stop event of this job (and start time) is stored',
  CCES_ERR_SQL_DISABLED: 'the SQL route is off (enable_sql) or the storage is not DuckDB',
  CCES_ERR_SQL_REFUSED: 'a SQL query is not one read-only SELECT over events and logs',
  CCES_ERR_SQL_TIMEOUT: 'a SQL query ran longer than its time limit and was interrupted',
  CCES_ERR_RELOAD_STOPPING: 'a config reload was asked for while the store is stopping',
} as const;

/** One of the catalogue's codes. */
export type ErrorCode = keyof typeof ErrorCodes;

/** Structured context of an error, shown to operators beside the message. */
export type ErrorDetails = Record<string, unknown>;

/** The store's error: a stable code, a sentence, structured details, and the wrapped cause. */
export class CcesError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CcesError';
    this.code = code;
    this.details = details;
  }
}

/** Creates a catalogued error; `cause` is kept when the error wraps another. */
export function createError(
  code: ErrorCode,
  message: string,
  details?: ErrorDetails,
  cause?: unknown,
): CcesError {
  return new CcesError(code, message, details, cause);
}

/** True when `err` carries the given catalogue code, whichever copy of the core made it. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
