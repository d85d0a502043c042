/**
 * How errors become HTTP answers: one table from catalogue code to status, shared by the
 * REST API and the HTTP receiver, so a client sees the same status for the same cause.
 */
import { Type } from 'typebox';

/** The body of every error answer (but InfluxDB's `/write`, see write-reply.ts). */
export const ErrorSchema = Type.Object({
  code: Type.String({ description: 'catalogue code, such as CCES_ERR_QUERY_INVALID' }),
  message: Type.String(),
});

/** An error as a client gets it. */
export interface HttpFailure {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
}

const STATUS: Record<string, number> = {
  CCES_ERR_QUERY_INVALID: 400,
  CCES_ERR_HTTP_BODY_INVALID: 400,
  CCES_ERR_INGEST_REJECTED: 400,
  CCES_ERR_AUTH_MISSING: 401,
  CCES_ERR_AUTH_INVALID: 401,
  CCES_ERR_AUTH_EXPIRED: 401,
  CCES_ERR_AUTH_FORBIDDEN: 403,
  CCES_ERR_HTTP_NOT_FOUND: 404,
  CCES_ERR_JOB_NOT_FOUND: 404,
  CCES_ERR_SQL_DISABLED: 404,
  CCES_ERR_SQL_REFUSED: 400,
  CCES_ERR_HTTP_BODY_TOO_LARGE: 413,
  CCES_ERR_HTTP_UNSUPPORTED_ENCODING: 415,
  CCES_ERR_STORAGE_WRITE: 500,
  CCES_ERR_STORAGE_QUERY: 500,
  CCES_ERR_HTTP_INTERNAL: 500,
  CCES_ERR_STORAGE_UNSUPPORTED: 501,
  CCES_ERR_INGEST_OVERLOADED: 503,
  CCES_ERR_INGEST_CLOSED: 503,
  CCES_ERR_STORAGE_UNAVAILABLE: 503,
  // As Prometheus answers a query that timed out; no Retry-After: the same query would too.
  CCES_ERR_SQL_TIMEOUT: 503,
};

// Seconds a client should wait when the error does not say; shutting down or a lost
// database take longer to clear than a full queue.
const RETRY_AFTER: Record<string, number> = {
  CCES_ERR_INGEST_OVERLOADED: 1,
  CCES_ERR_INGEST_CLOSED: 5,
  CCES_ERR_STORAGE_UNAVAILABLE: 5,
};

/** Fastify's own errors that a client caused, by their `FST_ERR_*` code. */
const FASTIFY: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'CCES_ERR_HTTP_BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'CCES_ERR_HTTP_BODY_INVALID',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'CCES_ERR_HTTP_BODY_INVALID',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'CCES_ERR_QUERY_INVALID',
  FST_ERR_CTP_INVALID_JSON_BODY: 'CCES_ERR_QUERY_INVALID',
};

interface AnyError {
  code?: unknown;
  message?: unknown;
  statusCode?: unknown;
  details?: { retryAfterSeconds?: unknown; scheme?: unknown };
  validation?: ValidationIssue[];
  validationContext?: string;
}

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: {
    additionalProperty?: string;
    missingProperty?: string;
    requiredProperties?: string[];
    allowedValues?: unknown[];
  };
}

/** Turns any thrown value into the status, code, message and headers to answer with. */
export function toHttpFailure(err: unknown): HttpFailure {
  const e = (typeof err === 'object' && err !== null ? err : {}) as AnyError;
  if (Array.isArray(e.validation)) {
    return failure('CCES_ERR_QUERY_INVALID', validationMessage(e.validation, e.validationContext));
  }

  const code = typeof e.code === 'string' ? (FASTIFY[e.code] ?? e.code) : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  const status = STATUS[code];
  if (status !== undefined) {
    const f = failure(code, message);
    const retry = RETRY_AFTER[code];
    if (retry !== undefined) f.headers['retry-after'] = String(retryAfter(e, retry));
    if (status === 401) {
      const scheme = e.details?.scheme === 'Basic' ? 'Basic realm="cc-event-store"' : 'Bearer';
      f.headers['www-authenticate'] = scheme;
    }
    return f;
  }

  // Other client errors raised by Fastify keep their status; everything else is ours.
  const sc = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (sc >= 400 && sc < 500)
    return { status: sc, code: 'CCES_ERR_QUERY_INVALID', message, headers: {} };
  return failure('CCES_ERR_HTTP_INTERNAL', 'the request failed; the server log has the cause');
}

/**
 * True when a failure is the server's fault and worth an error log line: a 5xx but 501 (the
 * client asked for an ability the backend lacks) and 503 (busy or storage away; logged as a
 * burst at warn).
 */
export function isServerFault(f: HttpFailure): boolean {
  return f.status >= 500 && f.status !== 501 && f.status !== 503;
}

function failure(code: string, message: string): HttpFailure {
  return { status: STATUS[code] ?? 500, code, message, headers: {} };
}

function retryAfter(e: AnyError, fallback: number): number {
  const s = e.details?.retryAfterSeconds;
  return typeof s === 'number' && Number.isFinite(s) && s > 0 ? Math.ceil(s) : fallback;
}

function validationMessage(issues: ValidationIssue[], context = 'request'): string {
  const first = issues[0] ?? {};
  const where = `${context}${first.instancePath ?? ''}`;
  if (first.keyword === 'additionalProperties' && first.params?.additionalProperty) {
    const name = first.params.additionalProperty;
    return `${context}: unknown parameter "${name}"`;
  }
  // Ajv names one missing property, TypeBox all of them.
  const missing = first.params?.missingProperty ?? first.params?.requiredProperties?.join('", "');
  if (first.keyword === 'required' && missing) return `${where}: "${missing}" is required`;
  if (first.keyword === 'enum' && Array.isArray(first.params?.allowedValues)) {
    return `${where} must be one of ${first.params.allowedValues.join(', ')}`;
  }
  return `${where} ${first.message ?? 'is invalid'}`;
}
