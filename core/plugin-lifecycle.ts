/**
 * Creating and starting plugin instances with errors that say which config entry failed:
 * a throwing factory, an instance without the contract's methods, a start that throws or
 * does not finish in time.
 */
import type { PluginFactoryContext, PluginInstances, PluginKind } from './contracts/plugin.ts';
import type { ErrorCode } from './errors.ts';
import type { ConfigWhere } from './config/problem.ts';
import { article, childKey, durationError, findKeyOf } from './config/problem.ts';
import { problemError } from './config/problem.ts';
import type { LoadedPlugin } from './loader.ts';
import { firstLine } from './loader.ts';

/** A configured plugin: the loaded module, its checked config and where that config is. */
export interface PluginSlot<K extends PluginKind = PluginKind> {
  kind: K;
  /** Instance name: the receiver's or sink's key, or the kind for storage and api. */
  name: string;
  plugin: LoadedPlugin<K>;
  /** The config after the schema check, host-level keys removed, schema defaults filled. */
  config: Record<string, unknown>;
  /** Where the plugin's config object is. */
  where: ConfigWhere;
  /** Folder of the config file; relative paths in the config resolve here. */
  configDir: string;
}

/** Start-up time allowed to one plugin unless the host is told otherwise. */
export const DEFAULT_START_TIMEOUT_MS = 30_000;

const METHODS: { [K in PluginKind]: readonly string[] } = {
  receiver: ['start', 'stop'],
  sink: ['write', 'flush', 'close'],
  storage: [
    'open',
    'write',
    'query',
    'deleteBefore',
    'writeRejected',
    'listRejected',
    'pruneRejected',
    'stats',
    'close',
  ],
  api: ['start', 'stop'],
};

/**
 * Calls the plugin's factory. Throws `CCES_ERR_PLUGIN_CREATE` when it throws (a config error
 * it raises keeps its code, with the file and key added), and `CCES_ERR_PLUGIN_BAD_SHAPE`
 * when the instance lacks a method of its contract.
 */
export async function createInstance<K extends PluginKind>(
  slot: PluginSlot<K>,
  ctx: PluginFactoryContext,
): Promise<PluginInstances[K]> {
  const base = { where: slot.where, resolved: slot.plugin.resolved };
  let instance: PluginInstances[K];
  try {
    instance = await slot.plugin.definition.create(slot.config, ctx);
  } catch (err) {
    if (isConfigError(err)) throw locateConfigError(slot, err);
    throw problemError(
      'CCES_ERR_PLUGIN_CREATE',
      {
        ...base,
        summary: `${slot.kind} plugin factory failed`,
        expected: `create() to return ${article(slot.kind)} instance`,
        found: `an error: ${firstLine(err)}`,
        fix: 'correct the config entry, or the plugin if the config is right',
      },
      err,
    );
  }

  const obj = (instance ?? {}) as unknown as Record<string, unknown>;
  const missing = METHODS[slot.kind].filter((m) => typeof obj[m] !== 'function');
  if (instance === null || typeof instance !== 'object' || missing.length > 0) {
    throw problemError('CCES_ERR_PLUGIN_BAD_SHAPE', {
      ...base,
      summary: `${slot.kind} instance has the wrong shape`,
      expected: `an object with the methods ${METHODS[slot.kind].join(', ')}`,
      found:
        instance === null || typeof instance !== 'object'
          ? String(instance)
          : `no ${missing.join(', ')}`,
      fix: `make create() return an object that implements the ${slot.kind} contract`,
    });
  }
  return instance;
}

/**
 * Runs one start step (`open`, `start`) of a plugin and waits at most `timeoutMs`. Throws
 * `CCES_ERR_PLUGIN_START` when it rejects and `CCES_ERR_PLUGIN_START_TIMEOUT` when it is
 * still pending after the timeout (it is left running; the caller stops what it can).
 */
export async function startWithin(
  slot: Pick<PluginSlot, 'kind' | 'name' | 'where'> & { plugin?: { resolved: string } },
  step: string,
  run: () => Promise<void> | void,
  timeoutMs: number,
): Promise<void> {
  const base = { where: slot.where, resolved: slot.plugin?.resolved };
  const label = `${slot.kind} "${slot.name}"`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>(
    (res) => (timer = setTimeout(() => res('timeout'), timeoutMs)),
  );
  let outcome: unknown;
  try {
    outcome = await Promise.race([Promise.resolve().then(run), timeout]);
  } catch (err) {
    throw problemError(
      'CCES_ERR_PLUGIN_START',
      {
        ...base,
        summary: `${label} failed to start`,
        expected: `${step}() to succeed`,
        found: `an error: ${firstLine(err)}`,
        fix: 'correct the config entry or what it points to (address, port, file, server)',
      },
      err,
    );
  } finally {
    clearTimeout(timer);
  }

  if (outcome === 'timeout') {
    throw problemError('CCES_ERR_PLUGIN_START_TIMEOUT', {
      ...base,
      summary: `${label} did not start in time`,
      expected: `${step}() to finish within ${timeoutMs} ms`,
      found: 'it still pending when the time was up',
      fix: 'check that what it connects to answers (server address, port, credentials)',
    });
  }
}

function isConfigError(
  err: unknown,
): err is { code: string; message: string; details?: Record<string, unknown> } {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('CCES_ERR_CONFIG_');
}

/**
 * A config error raised by a factory names a value or a key but not the file: add both. The
 * key is the one the error names, else the first one holding the value it names.
 */
function locateConfigError(
  slot: PluginSlot,
  err: { code: string; message: string; details?: Record<string, unknown> },
) {
  if (err.code === 'CCES_ERR_CONFIG_DURATION') return durationError(slot.config, slot.where, err);
  const d = err.details ?? {};
  const named =
    typeof d.key === 'string' && Object.hasOwn(slot.config, d.key)
      ? childKey(slot.where.key, d.key)
      : undefined;
  const value = d.value ?? d.flag;
  const found = value === undefined ? undefined : findKeyOf(slot.config, value, slot.where.key);
  const key = named ?? found ?? slot.where.key;
  return problemError(
    err.code as ErrorCode,
    {
      summary: 'invalid config value',
      where: { file: slot.where.file, key },
      resolved: slot.plugin.resolved,
      expected: `a value the ${slot.kind} plugin accepts`,
      found: `a value it refused (${firstLine(err)})`,
      fix: 'correct the value',
    },
    err,
  );
}
