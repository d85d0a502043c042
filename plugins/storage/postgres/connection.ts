/**
 * The plugin's config: the original's connection keys (`server`, `port`, `database_path`,
 * `username`, `password`, `flags`, `connection_timeout`) or a `connection_string`, turned
 * into node-postgres pool settings and into a description that is safe to log.
 */
import { userInfo } from 'node:os';
import pg from 'pg';
import { Type, type Static } from 'typebox';
import { parseDurationMs } from '../../../core/duration.ts';
import { createError } from '../../../core/errors.ts';

const Duration = Type.String({ pattern: '^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$' });

/** The plugin's config schema. */
export const PostgresConfigSchema = Type.Object(
  {
    server: Type.Optional(
      Type.String({ minLength: 1, description: 'host name, IP or socket dir' }),
    ),
    port: Type.Optional(
      Type.Union([
        Type.Integer({ minimum: 1, maximum: 65535 }),
        Type.String({ pattern: '^[0-9]+$' }),
      ]),
    ),
    database_path: Type.Optional(Type.String({ minLength: 1, description: 'the database name' })),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    flags: Type.Optional(
      Type.Union([Type.Array(Type.String({ pattern: '^[A-Za-z_]+=' })), Type.String()]),
    ),
    connection_timeout: Type.Optional(
      Type.Union([Type.Number({ minimum: 0, description: 'seconds, as the original' }), Duration]),
    ),
    connection_string: Type.Optional(Type.String({ minLength: 1 })),
    write_timeout: Type.Optional(Duration),
    pool_size: Type.Optional(Type.Integer({ minimum: 2, maximum: 200 })),
    write_concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
    schema: Type.Optional(Type.String({ minLength: 1, maxLength: 48, pattern: '^[^\\u0000]+$' })),
    partition_days_ahead: Type.Optional(Type.Integer({ minimum: 0, maximum: 60 })),
    partition_days_back: Type.Optional(Type.Integer({ minimum: 0, maximum: 3660 })),
  },
  { additionalProperties: false },
);

/** The config as validated. */
export type PostgresConfig = Static<typeof PostgresConfigSchema>;

/** Pool settings and a loggable description of where they point. */
export interface ConnectionSettings {
  pool: pg.PoolConfig;
  /** How long a write may go unanswered before its connection is given up. */
  writeTimeoutMs: number;
  /** host, port, database and user; never a password. */
  target: { host: string; port: number; database: string; user: string };
}

const PART_KEYS = ['server', 'port', 'database_path', 'username', 'password', 'flags'] as const;

/**
 * Builds the pool settings. Throws `CCES_ERR_CONFIG_INVALID` when neither a database nor a
 * connection string is given, when both forms are mixed, or for a malformed flag.
 */
export function connectionSettings(cfg: PostgresConfig): ConnectionSettings {
  const mixed = PART_KEYS.filter((k) => cfg[k] !== undefined);
  if (cfg.connection_string !== undefined && mixed.length > 0) {
    throw createError(
      'CCES_ERR_CONFIG_INVALID',
      `postgres: give either connection_string or ${mixed.join(', ')}, not both`,
      { keys: mixed },
    );
  }
  if (cfg.connection_string === undefined && cfg.database_path === undefined) {
    throw createError(
      'CCES_ERR_CONFIG_INVALID',
      'postgres: database_path (the database name) or connection_string is required',
      {},
    );
  }

  const flags = parseFlags(cfg.flags ?? []);
  const connectionString = cfg.connection_string ?? partsUrl(cfg, flags);
  const target = parseTarget(connectionString);
  const timeoutMs =
    cfg.connection_timeout !== undefined
      ? timeoutOf(cfg.connection_timeout)
      : Number(flags.get('connect_timeout') ?? 5) * 1000;
  return {
    pool: {
      connectionString,
      connectionTimeoutMillis: timeoutMs,
      max: cfg.pool_size ?? 8,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: 'cc-event-store',
    },
    writeTimeoutMs: parseDurationMs(cfg.write_timeout ?? '60s'),
    target,
  };
}

/** Reads `flags`: a list of `key=value`, or one string of them joined by `&` or spaces. */
export function parseFlags(flags: string | readonly string[]): Map<string, string> {
  const list = typeof flags === 'string' ? flags.split(/[&\s]+/).filter(Boolean) : flags;
  const out = new Map<string, string>();
  for (const flag of list) {
    const eq = flag.indexOf('=');
    if (eq <= 0 || !/^[A-Za-z_]+$/.test(flag.slice(0, eq))) {
      throw createError(
        'CCES_ERR_CONFIG_INVALID',
        `postgres flag "${flag.replace(/=.*/, '=…')}": expected key=value such as sslmode=require`,
        {},
      );
    }
    out.set(flag.slice(0, eq), flag.slice(eq + 1));
  }
  return out;
}

function timeoutOf(value: number | string): number {
  return typeof value === 'number' ? Math.round(value * 1000) : parseDurationMs(value);
}

function partsUrl(cfg: PostgresConfig, flags: Map<string, string>): string {
  const server = cfg.server ?? 'localhost';
  const port = Number(cfg.port ?? 5432);
  const user = cfg.username || defaultUser();
  let auth = '';
  if (user) {
    auth = encodeURIComponent(user);
    if (cfg.password) auth += `:${encodeURIComponent(cfg.password)}`;
    auth += '@';
  }
  const query = new URLSearchParams();
  let authority: string;
  if (server.startsWith('/')) {
    // A socket folder cannot be a URL host; libpq and pg take it as a parameter.
    authority = '';
    query.set('host', server);
    query.set('port', String(port));
  } else {
    authority = `${server.includes(':') ? `[${server}]` : server}:${port}`;
  }
  for (const [k, v] of flags) if (k !== 'connect_timeout') query.set(k, v);
  const qs = query.size > 0 ? `?${query.toString()}` : '';
  return `postgresql://${auth}${authority}/${encodeURIComponent(cfg.database_path ?? '')}${qs}`;
}

// pg falls back to PGUSER, then to the USER it read when loaded; under systemd without
// User= or in a container neither may be set, and the server then refuses the connection.
// The OS account needs no environment. userInfo() throws for a uid without a passwd entry.
function defaultUser(): string | undefined {
  const env = process.env.PGUSER || process.env.USER;
  if (env) return env;
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

// pg's own parsing (through a client that never connects) tells where it will connect,
// defaults included, without this module taking a dependency on pg-connection-string.
function parseTarget(connectionString: string): ConnectionSettings['target'] {
  let params: Record<string, unknown>;
  try {
    params = new pg.Client({ connectionString }) as unknown as Record<string, unknown>;
  } catch (err) {
    // The message of a parse failure may quote the string, password included.
    throw createError('CCES_ERR_CONFIG_INVALID', 'postgres: connection_string is malformed', {
      reason: (err as Error).name,
    });
  }
  return {
    host: String(params.host),
    port: Number(params.port),
    database: String(params.database),
    user: String(params.user),
  };
}
