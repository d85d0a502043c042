/**
 * NATS connection options shared by the NATS receiver, the NATS sink and the client: the
 * config keys of ClusterCockpit's NATS components, turned into client options.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import Type, { type Static } from 'typebox';
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import { createError } from '../../../core/errors.ts';

/** TLS files, relative to the config file's folder. */
export const NatsTlsSchema = Type.Object(
  {
    ca: Type.Optional(Type.String({ minLength: 1 })),
    cert: Type.Optional(Type.String({ minLength: 1 })),
    key: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

/** Config keys of a NATS connection; spread into a plugin's schema properties. */
export const natsConnectionProperties = {
  /** Host name or address, or a full URL such as `tls://host:4222`. Default `localhost`. */
  address: Type.Optional(Type.String({ minLength: 1 })),
  /** Default 4222. The original writes it as a string. */
  port: Type.Optional(
    Type.Union([
      Type.Integer({ minimum: 1, maximum: 65535 }),
      Type.String({ pattern: '^[0-9]+$' }),
    ]),
  ),
  user: Type.Optional(Type.String()),
  password: Type.Optional(Type.String()),
  /** File holding an nkey seed (`SU...`). */
  nkey_file: Type.Optional(Type.String({ minLength: 1 })),
  /** A NATS credentials file (user JWT and nkey seed). */
  creds_file: Type.Optional(Type.String({ minLength: 1 })),
  token: Type.Optional(Type.String()),
  tls: Type.Optional(NatsTlsSchema),
};

const ConnectionSchema = Type.Object(natsConnectionProperties);

/** The connection part of a NATS plugin's config. */
export type NatsConnectionConfig = Static<typeof ConnectionSchema>;

/** The server URL a config names (`nats://localhost:4222` by default). */
export function natsServerUrl(cfg: NatsConnectionConfig): string {
  const address = cfg.address ?? 'localhost';
  if (address.includes('://')) return address;
  return `${address}:${cfg.port ?? 4222}`;
}

/**
 * Client options for a config: authentication files are read now, relative to `configDir`,
 * so a missing file fails start-up with its path. Reconnects never give up.
 */
export function natsConnectOptions(
  cfg: NatsConnectionConfig,
  configDir: string,
  name: string,
): NodeConnectionOptions {
  const opts: NodeConnectionOptions = {
    servers: natsServerUrl(cfg),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
  };
  if (cfg.user !== undefined && cfg.user !== '') {
    opts.user = cfg.user;
    opts.pass = cfg.password;
  }
  if (cfg.token !== undefined && cfg.token !== '') opts.token = cfg.token;
  if (cfg.nkey_file) {
    const seed = readConfigFile(cfg.nkey_file, configDir, 'nkey_file').toString('utf8').trim();
    opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }
  if (cfg.creds_file) {
    opts.authenticator = credsAuthenticator(
      readConfigFile(cfg.creds_file, configDir, 'creds_file'),
    );
  }
  if (cfg.tls) {
    opts.tls = {
      caFile: cfg.tls.ca && resolveIn(configDir, cfg.tls.ca),
      certFile: cfg.tls.cert && resolveIn(configDir, cfg.tls.cert),
      keyFile: cfg.tls.key && resolveIn(configDir, cfg.tls.key),
    };
  }
  return opts;
}

/**
 * Connects once; reconnects after that are the client's job. Rejects with
 * `CCES_ERR_NATS_CONNECT` when the server cannot be reached or refuses the credentials.
 */
export async function connectNats(opts: NodeConnectionOptions): Promise<NatsConnection> {
  try {
    return await connect(opts);
  } catch (err) {
    throw createError(
      'CCES_ERR_NATS_CONNECT',
      `cannot connect to NATS at ${String(opts.servers)}: ${(err as Error).message}`,
      { servers: opts.servers },
      err,
    );
  }
}

function resolveIn(configDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(configDir, path);
}

function readConfigFile(path: string, configDir: string, key: string): Buffer {
  const full = resolveIn(configDir, path);
  try {
    return readFileSync(full);
  } catch (err) {
    throw createError(
      'CCES_ERR_CONFIG_NOT_FOUND',
      `the ${key} "${full}" cannot be read`,
      { key, path: full },
      err,
    );
  }
}
