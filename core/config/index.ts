/**
 * Reads the whole configuration: the central file, each component, every plugin module and
 * its schema, the storage manager's settings and the receivers' and sinks' rules. Nothing is
 * opened or bound; `--validate` runs exactly this.
 */
import Type from 'typebox';
import type { ApiExtension } from '../contracts/api.ts';
import { hasCode } from '../errors.ts';
import { loadApiExtension } from '../loader.ts';
import type { PluginSlot } from '../plugin-lifecycle.ts';
import { compileMatch } from '../router/match.ts';
import { MatchRuleSchema, type MatchRule } from '../router.ts';
import { compileRules, ProcessMessagesSchema, type MessageRules } from '../rules.ts';
import {
  StorageManagerSchema,
  storageManagerOptions,
  type StorageManagerConfig,
  type StorageManagerOptions,
} from '../storage-config.ts';
import { BUILTINS, type BuiltinMap } from '../../plugins/builtins.ts';
import { readCentralConfig, type ComponentSource } from './central.ts';
import { childKey, durationError, type ConfigWhere } from './problem.ts';
import { checkConfig } from './schema-check.ts';
import { entriesOf, locateRuleError, readSlot } from './slots.ts';

/**
 * A receiver with its compiled `process_messages` rules, and the rules as written (a reload
 * compares them).
 */
export type ReceiverSlot = PluginSlot<'receiver'> & {
  rules?: MessageRules;
  processMessages?: unknown;
};

/** A sink with the rule that picks its records. */
export type SinkSlot = PluginSlot<'sink'> & { match: MatchRule };

/** Everything the host needs to start, read and checked. */
export interface HostConfig {
  /** The central config file, absolute. */
  file: string;
  storage: {
    settings: StorageManagerConfig;
    options: StorageManagerOptions;
    where: ConfigWhere;
    backend: PluginSlot<'storage'>;
  };
  api: { slot: PluginSlot<'api'>; extensions: ApiExtension[] };
  receivers: ReceiverSlot[];
  sinks: SinkSlot[];
}

const ExtensionsSchema = Type.Array(
  Type.Object(
    {
      path: Type.String({ minLength: 1, description: 'module path or package name' }),
      config: Type.Optional(Type.Object({}, { additionalProperties: true })),
    },
    { additionalProperties: false },
  ),
);

/**
 * Reads and checks the configuration named by `path` (the central file). Throws the first
 * problem as a catalogued error naming the file and the key.
 */
export async function loadHostConfig(
  path: string,
  builtins: BuiltinMap = BUILTINS,
): Promise<HostConfig> {
  const central = readCentralConfig(path);
  const storage = await readStorage(central.storage, builtins);
  const api = await readApi(central.api, builtins);
  const receivers = await readReceivers(central.receivers, builtins);
  const sinks = central.sinks ? await readSinks(central.sinks, builtins) : [];
  return { file: central.file, storage, api, receivers, sinks };
}

async function readStorage(source: ComponentSource, builtins: BuiltinMap) {
  const where = { file: source.file, key: source.key };
  const settings = checkConfig<StorageManagerConfig>(StorageManagerSchema, source.value, where);
  let options: StorageManagerOptions;
  try {
    options = storageManagerOptions(settings);
  } catch (err) {
    throw hasCode(err, 'CCES_ERR_CONFIG_DURATION') ? durationError(settings, where, err) : err;
  }

  const key = childKey(source.key, 'backend');
  const spec = { kind: 'storage' as const, name: 'storage', source, key, entry: settings.backend };
  const { slot } = await readSlot(spec, builtins);
  return { settings, options, where, backend: slot };
}

async function readApi(source: ComponentSource, builtins: BuiltinMap) {
  const hostKeys = { extensions: ExtensionsSchema };
  const spec = { kind: 'api' as const, name: 'api', source, key: source.key, entry: source.value };
  const { slot, host } = await readSlot({ ...spec, hostKeys, defaultType: 'rest' }, builtins);

  const extensions: ApiExtension[] = [];
  const list = (host.extensions ?? []) as { path: string; config?: Record<string, unknown> }[];
  for (const [i, ext] of list.entries()) {
    const where = {
      file: source.file,
      key: childKey(childKey(childKey(source.key, 'extensions'), i), 'path'),
    };
    const { plugin } = await loadApiExtension(ext.path, where);
    const name = ext.path.replace(/^.*[\\/]/, '').replace(/\.(ts|mts|js|mjs|cjs)$/, '');
    extensions.push({ name, plugin, config: ext.config ?? {} });
  }
  return { slot, extensions };
}

async function readReceivers(
  source: ComponentSource,
  builtins: BuiltinMap,
): Promise<ReceiverSlot[]> {
  const out: ReceiverSlot[] = [];
  for (const [name, entry] of Object.entries(entriesOf(source, 'receivers'))) {
    const key = childKey(source.key, name);
    const hostKeys = { process_messages: ProcessMessagesSchema };
    const spec = { kind: 'receiver' as const, name, source, key, entry, hostKeys };
    const { slot, host } = await readSlot(spec, builtins);

    let rules: MessageRules | undefined;
    if (host.process_messages !== undefined) {
      const where = { file: source.file, key: childKey(key, 'process_messages') };
      try {
        rules = compileRules(host.process_messages as never);
      } catch (err) {
        throw locateRuleError(err, where);
      }
    }
    out.push(rules ? { ...slot, rules, processMessages: host.process_messages } : slot);
  }
  return out;
}

async function readSinks(source: ComponentSource, builtins: BuiltinMap): Promise<SinkSlot[]> {
  const out: SinkSlot[] = [];
  for (const [name, entry] of Object.entries(entriesOf(source, 'sinks'))) {
    const key = childKey(source.key, name);
    const spec = {
      kind: 'sink' as const,
      name,
      source,
      key,
      entry,
      hostKeys: { match: MatchRuleSchema },
    };
    const { slot, host } = await readSlot(spec, builtins);

    const match = (host.match ?? {}) as MatchRule;
    try {
      compileMatch(match, `${name}.match.if`);
    } catch (err) {
      throw locateRuleError(err, {
        file: source.file,
        key: childKey(childKey(key, 'match'), 'if'),
      });
    }
    out.push({ ...slot, match });
  }
  return out;
}

export type { ConfigWhere } from './problem.ts';
