/**
 * The HTTP receiver (`type: "http"`): line protocol POSTed to its own listener, with the
 * options of ClusterCockpit's HTTP receiver: `address` (default all interfaces), `port`
 * (default 8080), `path` (default `/write`), `username`/`password` (basic auth),
 * `idle_timeout` (default "120s"), `keep_alives_enabled` (default true);
 * `request_timeout` (time to receive a whole request, default "120s"); plus `cluster`
 * (for lines without one), `precision` (default auto), `max_body_size` (default 64 MiB).
 * A request may override `cluster` and `precision` in its query string. Answers as
 * `/api/write`: 204, 400 with the refused lines, 401, 413, 503 with Retry-After, 500.
 */
import { Type } from 'typebox';
import { definePlugin } from '../../../core/contracts/plugin.ts';
import { parseDurationMs } from '../../../core/duration.ts';
import { createError } from '../../../core/errors.ts';
import { PRECISIONS, type Precision } from '../../../core/time.ts';
import { DEFAULT_MAX_BODY, parsePort, PortSchema } from '../../api/rest/index.ts';
import { ByteSizeSchema, parseByteSize } from '../../shared/http/byte-size.ts';
import { basicAuth } from './basic-auth.ts';
import { HttpReceiver } from './receiver.ts';

/** The config schema of the HTTP receiver. */
export const HttpReceiverConfigSchema = Type.Object(
  {
    address: Type.Optional(Type.String()),
    port: Type.Optional(PortSchema),
    path: Type.Optional(Type.String({ pattern: '^/' })),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    idle_timeout: Type.Optional(Type.String()),
    request_timeout: Type.Optional(Type.String()),
    keep_alives_enabled: Type.Optional(Type.Boolean()),
    cluster: Type.Optional(Type.String({ minLength: 1 })),
    precision: Type.Optional(Type.Enum([...PRECISIONS])),
    max_body_size: Type.Optional(ByteSizeSchema),
  },
  { additionalProperties: false },
);

export default definePlugin({
  kind: 'receiver',
  type: 'http',
  contract: '^1.0.0',
  configSchema: HttpReceiverConfigSchema,
  create(config, ctx) {
    const { username, password } = config;
    if ((username === undefined) !== (password === undefined)) {
      throw createError(
        'CCES_ERR_CONFIG_INVALID',
        `receiver ${ctx.name}: set both username and password for basic auth, or neither`,
        { receiver: ctx.name },
      );
    }
    if (config.cluster?.includes(',')) {
      throw createError(
        'CCES_ERR_CONFIG_INVALID',
        `receiver ${ctx.name}: cluster "${config.cluster}" holds a comma; cluster filters ` +
          'split at commas, so its records could never be queried by cluster',
        { receiver: ctx.name, key: 'cluster' },
      );
    }
    return new HttpReceiver({
      name: ctx.name,
      address: config.address || '0.0.0.0',
      port: parsePort(config.port, 8080, 'port'),
      path: config.path ?? '/write',
      check: username !== undefined ? basicAuth(username, password ?? '') : undefined,
      idleTimeoutMs: parseDurationMs(config.idle_timeout ?? '120s'),
      requestTimeoutMs: parseDurationMs(config.request_timeout ?? '120s'),
      keepAlives: config.keep_alives_enabled ?? true,
      cluster: config.cluster,
      precision: (config.precision ?? 'auto') as Precision,
      maxBodySize:
        config.max_body_size === undefined
          ? DEFAULT_MAX_BODY
          : parseByteSize(config.max_body_size, 'max_body_size'),
    });
  },
});
