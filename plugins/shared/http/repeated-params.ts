/**
 * Query parameters given more than once. The query-string parser turns a repeated key into
 * an array, and the validator would then answer `?limit=1&limit=2` with "must be integer".
 */
import type { FastifyRequest } from 'fastify';
import { createError } from '../../../core/errors.ts';

/** The parts of a JSON schema that tell whether a parameter takes one value. */
interface ParamSchema {
  type?: unknown;
  enum?: unknown;
  anyOf?: ParamSchema[];
  properties?: Record<string, ParamSchema>;
  patternProperties?: Record<string, ParamSchema>;
}

/**
 * preValidation hook: refuses a parameter that takes one value but was given several times,
 * with `CCES_ERR_QUERY_INVALID` saying it must be given once.
 */
export async function refuseRepeatedParams(request: FastifyRequest): Promise<void> {
  const schema = request.routeOptions.schema?.querystring as ParamSchema | undefined;
  if (schema === undefined) return;
  for (const [key, value] of Object.entries(request.query as Record<string, unknown>)) {
    if (!Array.isArray(value)) continue;
    const param = paramSchema(schema, key);
    if (param === undefined || !isSingle(param)) continue;
    throw createError(
      'CCES_ERR_QUERY_INVALID',
      `querystring/${key} must be given once, not ${value.length} times`,
      { param: key },
    );
  }
}

function paramSchema(schema: ParamSchema, key: string): ParamSchema | undefined {
  const named = schema.properties?.[key];
  if (named !== undefined) return named;
  const patterns = Object.entries(schema.patternProperties ?? {});
  return patterns.find(([pattern]) => new RegExp(pattern).test(key))?.[1];
}

function isSingle(s: ParamSchema): boolean {
  if (Array.isArray(s.anyOf)) return s.anyOf.every(isSingle);
  if (Array.isArray(s.enum)) return true;
  return typeof s.type === 'string' && s.type !== 'array';
}
