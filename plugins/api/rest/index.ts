/**
 * The REST API plugin (`type: "rest"`, the default API), on Fastify.
 *
 * Config, as the original's api.json plus limits: `address` (default 127.0.0.1), `port`
 * (number or numeric string, default 8098), `jwt_public_key` (standard base64 of a raw
 * Ed25519 key; empty: no auth), `enable_swagger_ui`, `max_body_size` (bytes or "64MiB",
 * default 64 MiB, also after decompression), `idle_timeout` (keep-alive idle time, default
 * "120s"), `request_timeout` (time to receive a whole request, default "120s"),
 * `keep_alives_enabled` (default true). The host reads `extensions` (site plugins)
 * and removes it before this schema applies.
 */
import { Type } from 'typebox';
import { definePlugin } from '../../../core/contracts/plugin.ts';
import { parseDurationMs } from '../../../core/duration.ts';
import { createError } from '../../../core/errors.ts';
import { ByteSizeSchema, parseByteSize } from '../../shared/http/byte-size.ts';
import { createAuthenticator } from './auth.ts';
import { RestApiServer, type RestApiOptions } from './server.ts';

/** Port as a number or, as in the original's config, a numeric string. */
export const PortSchema = Type.Union([
  Type.Integer({ minimum: 0, maximum: 65535 }),
  Type.String({ pattern: '^[0-9]{1,5}$' }),
]);

/** The config schema of the REST API. */
export const RestApiConfigSchema = Type.Object(
  {
    address: Type.Optional(Type.String({ minLength: 1 })),
    port: Type.Optional(PortSchema),
    jwt_public_key: Type.Optional(Type.String()),
    enable_swagger_ui: Type.Optional(Type.Boolean()),
    max_body_size: Type.Optional(ByteSizeSchema),
    idle_timeout: Type.Optional(Type.String()),
    request_timeout: Type.Optional(Type.String()),
    keep_alives_enabled: Type.Optional(Type.Boolean()),
    enable_sql: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Default body limit: 64 MiB. */
export const DEFAULT_MAX_BODY = 64 * 1024 * 1024;

/** Reads a port setting; throws `CCES_ERR_CONFIG_INVALID` naming `key`. */
export function parsePort(value: number | string | undefined, fallback: number, key: string) {
  const port = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw createError('CCES_ERR_CONFIG_INVALID', `${key}: "${value}" is not a port (0-65535)`, {
      key,
      value,
    });
  }
  return port;
}

export default definePlugin({
  kind: 'api',
  type: 'rest',
  contract: '^1.0.0',
  configSchema: RestApiConfigSchema,
  async create(config, ctx) {
    const opts: RestApiOptions = {
      address: config.address ?? '127.0.0.1',
      port: parsePort(config.port, 8098, 'port'),
      jwtPublicKey: config.jwt_public_key ?? '',
      maxBodySize:
        config.max_body_size === undefined
          ? DEFAULT_MAX_BODY
          : parseByteSize(config.max_body_size, 'max_body_size'),
      idleTimeoutMs: parseDurationMs(config.idle_timeout ?? '120s'),
      requestTimeoutMs: parseDurationMs(config.request_timeout ?? '120s'),
      keepAlives: config.keep_alives_enabled ?? true,
      enableSwaggerUi: config.enable_swagger_ui ?? false,
      enableSql: config.enable_sql ?? false,
    };
    const auth = await createAuthenticator(opts.jwtPublicKey, 'jwt_public_key');
    return new RestApiServer(opts, auth, ctx.logger);
  },
});
