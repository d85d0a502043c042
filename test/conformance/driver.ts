/**
 * Drivers: what the conformance kit cannot know about a plugin by its contract alone. A
 * driver module's default export is a {@link DriverFactory}; `npm run conformance` takes one
 * with `--driver <module>`, and tests pass one to the harness functions.
 */
import type { PluginKind } from '../../core/contracts/plugin.ts';

/** A plugin config object, as checked against the plugin's schema. */
export type PluginConfig = Record<string, unknown>;

/** What a driver may add to the harness of its kind; every member is optional. */
export interface ConformanceDriver {
  /** The config to create the plugin with (such as a free port); default the loaded one. */
  config?: PluginConfig;

  /**
   * Storage: the config of test number `n` (0, 1, ...). Storages whose data live outside the
   * config's folder (a database server) return a config that points at a fresh, empty place.
   */
  configFor?(n: number, base: PluginConfig): PluginConfig | Promise<PluginConfig>;
  /** Storage: removes what test number `n` left outside its folder. */
  cleanupFor?(n: number): Promise<void>;

  /** Receiver: delivers line-protocol text to the running receiver (over its own transport). */
  send?(text: string): Promise<void>;
  /** Receiver: a config whose `start` must fail (a port in use, a missing file). */
  failingConfig?: PluginConfig | (() => Promise<PluginConfig>);

  /**
   * Sink: resolves with the records that reached the far end since the previous call, once
   * at least `count` arrived (then a short while longer, to catch extras), and forgets them.
   */
  delivered?(count: number): Promise<unknown[]>;

  /** Releases what the driver holds (servers, connections). */
  close?(): Promise<void>;
}

/** Builds a driver for the plugin under test from its (checked) config. */
export type DriverFactory = (target: {
  kind: PluginKind;
  config: PluginConfig;
}) => ConformanceDriver | Promise<ConformanceDriver>;
