/**
 * The project's logger. One root pino logger; every plugin gets a child with its kind and
 * name. Passwords, tokens and keys are redacted wherever they appear as keys.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

/** Key paths whose values never reach a log line. */
export const REDACT_PATHS = [
  'password',
  'token',
  'jwt_public_key',
  'authorization',
  'connection_string',
  '*.password',
  '*.token',
  '*.jwt_public_key',
  '*.connection_string',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-auth-token"]',
  'config.*.password',
];

/** Creates the root logger. `level` defaults to LOG_LEVEL or `info`. */
export function createLogger(opts: LoggerOptions = {}, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    ...opts,
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The child logger of one plugin instance. */
export function pluginLogger(root: Logger, kind: string, name: string): Logger {
  return root.child({ kind, plugin: name });
}

/** Replaces the password of a URL-style connection string so it can be logged. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]*):([^@]*)@/, '//$1:[redacted]@');
}
