/**
 * What a plugin module exports: its default export is a {@link PluginDefinition}.
 */
import type { Logger } from 'pino';
import type { TSchema } from 'typebox';
import type { ApiServer } from './api.ts';
import type { Receiver } from './receiver.ts';
import type { Sink } from './sink.ts';
import type { Storage } from './storage.ts';

/** The version of the contracts in `core/contracts`; plugins declare a semver range of it. */
export const CONTRACT_VERSION = '1.2.0';

/** The kinds of plugin and the instance each one's factory returns. */
export interface PluginInstances {
  receiver: Receiver;
  sink: Sink;
  storage: Storage;
  api: ApiServer;
}

export type PluginKind = keyof PluginInstances;

/** What a factory gets besides its config. */
export interface PluginFactoryContext {
  /** The instance's name (its key in the config, or the kind for single components). */
  name: string;
  /** A child logger bound to the plugin's kind and name. */
  logger: Logger;
  /** Folder of the config file that configured it; relative paths in the config resolve here. */
  configDir: string;
}

/** The default export of a plugin module. */
export interface PluginDefinition<K extends PluginKind = PluginKind, C = any> {
  kind: K;
  /** The type name configs use (`"type": "sqlite"`). */
  type: string;
  /** Semver range of {@link CONTRACT_VERSION} the plugin works with, such as `^1.0.0`. */
  contract: string;
  /** TypeBox schema of the plugin's config object (without the `type` key). */
  configSchema: TSchema;
  /** Creates an instance from a config that passed the schema. */
  create(config: C, ctx: PluginFactoryContext): PluginInstances[K] | Promise<PluginInstances[K]>;
}

/** Declares a plugin with its types checked; returns the definition unchanged. */
export function definePlugin<K extends PluginKind, S extends TSchema>(
  def: PluginDefinition<K, import('typebox').Static<S>> & { configSchema: S },
): PluginDefinition<K, import('typebox').Static<S>> {
  return def;
}
