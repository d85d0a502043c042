/**
 * The `cc-event-store` command: starts the store from a central config, or checks the
 * config with `--validate`. Logs are pino JSON on stdout (level from `LOG_LEVEL`).
 *
 * Exit codes: 0 after a clean stop or a passing check; 1 when start-up, a check or a stop
 * step fails, or when a second signal forces the exit; 2 for a usage error.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import type { HostConfig } from './config/index.ts';
import type { Host } from './host.ts';

const USAGE = `usage: cc-event-store [--config <file>] [--validate] [--help]

  -c, --config <file>  central config file (default ./config/config.json)
      --validate       check every config file, plugin schema and plugin factory,
                       then exit (opens no storage and binds no port)
  -h, --help           show this help

Environment: LOG_LEVEL (fatal, error, warn, info, debug, trace or silent; default info).
Signals: SIGINT or SIGTERM stops the store gracefully; a second one forces the exit.
         SIGHUP reloads receivers, sinks and their rules; a config error keeps the
         running config and is logged.
`;

/** The values `LOG_LEVEL` may take: pino's levels. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

// Start-up errors that are the config's fault: the operator needs the sentence, not a stack.
const CONFIG_FAULT =
  /^CCES_ERR_(CONFIG_[A-Z_]+|PLUGIN_[A-Z_]+|AUTH_KEY_INVALID|RULE_INVALID|STORAGE_OPEN)$/;

/** What the command line asks for. */
export interface CliArgs {
  config: string;
  validate: boolean;
  help: boolean;
}

/** Parses the arguments; throws a plain Error with a usage message for unknown options. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c', default: './config/config.json' },
      validate: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  return { config: values.config!, validate: values.validate!, help: values.help! };
}

/**
 * Runs the command. Resolves with an exit code for one-shot modes (help, validate, failed
 * start); resolves `undefined` once the store runs, which then lives until a signal.
 */
export async function runCli(argv: readonly string[]): Promise<number | undefined> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`cc-event-store: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const level = process.env.LOG_LEVEL;
  if (level !== undefined && !LOG_LEVELS.includes(level)) {
    const levels = LOG_LEVELS.join(', ');
    process.stderr.write(
      `cc-event-store: LOG_LEVEL "${level}" is not a log level; use one of ${levels}\n\n${USAGE}`,
    );
    return 2;
  }
  return args.validate ? validate(args.config) : run(args.config);
}

// The store's modules are imported on demand, so that --help and usage errors answer fast.

async function validate(path: string): Promise<number> {
  const { validateHostConfig } = await import('./host.ts');
  try {
    process.stdout.write(summary(await validateHostConfig(path)));
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code ?? 'error';
    process.stderr.write(`${String(code)}: ${(err as Error).message}\n`);
    return 1;
  }
}

function summary(cfg: HostConfig): string {
  const item = (spec: string, file: string, key: string) =>
    `${spec} (${file}${key ? ` at ${key}` : ''})`;
  const lines = [`ok: ${cfg.file}`];
  const backend = cfg.storage.backend;
  lines.push(`  storage: ${item(backend.plugin.spec, backend.where.file, backend.where.key)}`);
  const api = cfg.api.slot;
  lines.push(
    `  api: ${item(api.plugin.spec, api.where.file, api.where.key)}, ` +
      `${cfg.api.extensions.length} extensions`,
  );
  for (const [what, slots] of [
    ['receiver', cfg.receivers],
    ['sink', cfg.sinks],
  ] as const) {
    if (slots.length === 0) lines.push(`  ${what}s: none`);
    for (const s of slots)
      lines.push(`  ${what} ${s.name}: ${item(s.plugin.spec, s.where.file, s.where.key)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function run(path: string): Promise<number | undefined> {
  const [{ createLogger }, { startHost }, { destination, stdSerializers }] = await Promise.all([
    import('./logger.ts'),
    import('./host.ts'),
    import('pino'),
  ]);
  // Synchronous writes: with pino's default asynchronous stdout, process.exit can overtake a
  // write in flight, and the last lines (storage closed, `stopped`) come out of order.
  const logger = createLogger({}, destination({ dest: 1, sync: true }));
  let host: Host | undefined;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal; exiting without a clean stop');
      process.exit(1);
    }
    logger.info({ signal }, 'signal received; stopping');
    if (host) void stopAndExit(host);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The host logs the outcome (`reloaded`, or the error once) and never rejects.
  process.on('SIGHUP', (signal) => {
    if (!host) return void logger.warn({ signal }, 'signal received while starting; ignored');
    logger.info({ signal }, 'signal received; reloading');
    void host.reload();
  });

  try {
    host = await startHost(resolve(path), { logger });
  } catch (err) {
    logFailure(logger, err, stdSerializers.err);
    return 1;
  }
  // A signal that came while starting is acted on now that there is something to stop.
  if (signals > 0) void stopAndExit(host);
  return undefined;
}

async function stopAndExit(host: Host): Promise<never> {
  await host.stop();
  process.exit(host.stopFailures > 0 ? 1 : 0);
}

/**
 * Logs the start-up error once: its code on top, message, details and cause in `err`. A
 * config fault is also printed to stderr as `--validate` prints it, and logged without stack.
 */
function logFailure(logger: Logger, err: unknown, serialize: (e: Error) => object): void {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !CONFIG_FAULT.test(code)) {
    return void logger.fatal({ code, err }, 'start-up failed');
  }
  process.stderr.write(`${code}: ${(err as Error).message}\n`);
  const noStack = (e: Error) => ({ ...serialize(e), stack: undefined });
  logger.child({}, { serializers: { err: noStack } }).fatal({ code, err }, 'start-up failed');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await runCli(process.argv.slice(2));
  if (code !== undefined) process.exit(code);
}
