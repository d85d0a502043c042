/**
 * `POST /api/v1/sql`: one read-only SELECT over the store's `events` and `logs`, for
 * administrators. Off unless `enable_sql` is set; needs a storage with the `sql` ability
 * (DuckDB), auth configured, and a token whose `roles` claim lists `admin`.
 *
 * Body `{ "query": "SELECT ...", "max_rows"?: 1..10000 (default 1000), "timeout_ms"?:
 * 100..30000 (default 10000) }`. Answer `{ columns: [{name, type}], rows: [[...]],
 * truncated }`, 64-bit integers as strings.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { Type, type Static } from 'typebox';
import { createError } from '../../../core/errors.ts';
import { acceptJsonBodies } from '../../shared/http/body.ts';
import { ErrorSchema, type RouteDeps } from './route-deps.ts';

const SqlBodySchema = Type.Object(
  {
    query: Type.String({ minLength: 1, maxLength: 100_000 }),
    max_rows: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 30_000 })),
  },
  { additionalProperties: false },
);

const SqlAnswerSchema = Type.Object({
  columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String() })),
  rows: Type.Array(Type.Array(Type.Unknown())),
  truncated: Type.Boolean(),
});

/**
 * Registers the SQL route; `enabled` is the API config's `enable_sql`. The body is read as JSON
 * whatever its content type, and only after the route is known to be on and the caller an
 * admin, so a refusal never depends on the body.
 */
export function registerSqlRoute(
  { app, ctx, authenticate }: RouteDeps,
  { enabled, authEnabled }: { enabled: boolean; authEnabled: boolean },
) {
  const refuseUnlessAllowed = async (request: FastifyRequest): Promise<void> => {
    if (!enabled || !ctx.storage.sql) {
      throw createError(
        'CCES_ERR_SQL_DISABLED',
        enabled
          ? 'SQL needs the duckdb storage'
          : 'SQL is off; set "enable_sql": true in the API config',
      );
    }
    if (!authEnabled) {
      throw createError(
        'CCES_ERR_AUTH_FORBIDDEN',
        'SQL is enabled, but needs a jwt_public_key in the API config: without one, no token ' +
          'can carry the admin role',
      );
    }
    requireAdmin(request);
  };

  app.register(async (child: FastifyInstance) => {
    acceptJsonBodies(child);
    child.post('/api/v1/sql', {
      schema: {
        body: SqlBodySchema,
        response: { 200: SqlAnswerSchema, '4xx': ErrorSchema, '5xx': ErrorSchema },
      },
      onRequest: [authenticate, refuseUnlessAllowed],
      handler: async (request) => {
        const body = request.body as Static<typeof SqlBodySchema>;
        const { query, max_rows: maxRows = 1000, timeout_ms: timeoutMs = 10_000 } = body;
        return ctx.storage.sql!(query, { maxRows, timeoutMs });
      },
    });
  });
}

// The token was verified by `authenticate` before the handler runs, so its claims can be
// read here without a second signature check.
function requireAdmin(request: FastifyRequest): void {
  const auth = request.headers.authorization;
  const bearer = typeof auth === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] : undefined;
  const x = request.headers['x-auth-token'];
  const token = bearer ?? (typeof x === 'string' ? x.trim() : undefined);
  let roles: unknown;
  try {
    roles = token ? decodeJwt(token).roles : undefined;
  } catch {
    // An undecodable token cannot have passed authenticate; it simply carries no roles.
    roles = undefined;
  }
  if (Array.isArray(roles) && roles.includes('admin')) return;
  throw createError(
    'CCES_ERR_AUTH_FORBIDDEN',
    'SQL needs a token whose "roles" claim lists "admin"',
  );
}
