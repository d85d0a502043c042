/**
 * Loading a plugin for the kit exactly as the host does: the real loader (built-in name,
 * path or package), the shape and contract-version checks, and the config checked against
 * the plugin's schema, with the same coded errors.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readJsonFile } from '../../core/config/files.ts';
import { checkConfig } from '../../core/config/schema-check.ts';
import type { PluginKind } from '../../core/contracts/plugin.ts';
import { createError } from '../../core/errors.ts';
import { loadPlugin, type LoadedPlugin } from '../../core/loader.ts';
import type { PluginSlot } from '../../core/plugin-lifecycle.ts';
import { BUILTINS, type BuiltinMap } from '../../plugins/builtins.ts';
import type { PluginConfig } from './driver.ts';

const KINDS: readonly PluginKind[] = ['storage', 'receiver', 'sink', 'api'];

/** A plugin loaded and its config checked, ready for a harness. */
export interface ConformanceTarget<K extends PluginKind = PluginKind> {
  kind: K;
  plugin: LoadedPlugin<K>;
  /** The config after the schema check (defaults filled, `type` taken out). */
  config: PluginConfig;
  /** The config file, absolute; relative paths of receivers and sinks resolve beside it. */
  configFile: string;
}

/** How to load a target. */
export interface LoadOptions {
  /** The kind, needed only for a built-in name that several kinds share (`nats`). */
  kind?: PluginKind;
  /** Built-in table; default the store's. */
  builtins?: BuiltinMap;
  /** Folder a relative plugin path resolves against; default the current directory. */
  cwd?: string;
}

/**
 * Loads the plugin `spec` (built-in type name, path or package name) and checks the plugin
 * config in `configFile` (a JSON object of its options; a `type` key is ignored). Throws
 * the loader's and the schema check's coded errors (`CCES_ERR_PLUGIN_*`, `CCES_ERR_CONFIG_*`).
 */
export async function loadTarget(
  spec: string,
  configFile: string,
  opts: LoadOptions = {},
): Promise<ConformanceTarget> {
  const builtins = opts.builtins ?? BUILTINS;
  const file = resolve(configFile);
  const value = readJsonFile(file);
  const path = resolve(opts.cwd ?? process.cwd(), spec);
  const isPath = !isBuiltin(spec, builtins) && (existsSync(path) || /^[./]/.test(spec));
  const moduleSpec = isPath ? path : spec;
  const kind = opts.kind ?? (await kindOf(moduleSpec, isPath, builtins));

  const where = { file, key: '/type' };
  const plugin = await loadPlugin(kind, moduleSpec, where, builtins);
  const raw = isObject(value) ? { ...value } : value;
  if (isObject(raw)) delete raw.type;
  const config = checkConfig<PluginConfig>(plugin.definition.configSchema, raw, {
    file,
    key: '',
  });
  return { kind, plugin, config, configFile: file };
}

/** The slot the host would build for this target, with `config` and `configDir` given. */
export function slotOf<K extends PluginKind>(
  target: ConformanceTarget<K>,
  config: PluginConfig,
  configDir = dirname(target.configFile),
): PluginSlot<K> {
  const where = { file: target.configFile, key: '' };
  const name = `conformance-${target.plugin.definition.type}`;
  return { kind: target.kind, name, plugin: target.plugin, config, where, configDir };
}

function isBuiltin(spec: string, builtins: BuiltinMap): boolean {
  return KINDS.some((k) => Object.hasOwn(builtins[k] ?? {}, spec));
}

/** The kind of a built-in name, or the kind a module's default export declares. */
async function kindOf(spec: string, isPath: boolean, builtins: BuiltinMap): Promise<PluginKind> {
  const kinds = KINDS.filter((k) => Object.hasOwn(builtins[k] ?? {}, spec));
  if (kinds.length > 1) {
    throw createError(
      'CCES_ERR_PLUGIN_UNKNOWN_TYPE',
      `"${spec}" is a built-in ${kinds.join(' and ')}; name the kind with --kind`,
      { spec, kinds },
    );
  }
  if (kinds.length === 1) return kinds[0]!;
  if (!isPath) return 'storage';
  try {
    const mod = (await import(pathToFileURL(spec).href)) as { default?: { kind?: unknown } };
    const declared = mod.default?.kind;
    return KINDS.includes(declared as PluginKind) ? (declared as PluginKind) : 'storage';
  } catch {
    // The loader imports the module again and reports the failure with file and key.
    return 'storage';
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
