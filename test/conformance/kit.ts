/**
 * The conformance kit (`cc-event-store/conformance`): checks a plugin against its contract
 * with the store's own loader and test suites. Use it from a plugin's test file:
 *
 * ```ts
 * import { conformance } from 'cc-event-store/conformance';
 * await conformance('./index.ts', './conformance.json', { cwd: import.meta.dirname });
 * ```
 *
 * or from the command line: `npm run conformance -- <plugin> <config.json>`.
 */
import { resolve } from 'node:path';
import { after } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { createError } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import type { DriverFactory } from './driver.ts';
import { loadTarget, type ConformanceTarget, type LoadOptions } from './load.ts';
import { receiverConformance } from './receiver-harness.ts';
import { sinkConformance } from './sink-harness.ts';
import { storageConformance } from './storage-harness.ts';

export type { ConformanceDriver, DriverFactory, PluginConfig } from './driver.ts';
export { loadTarget, type ConformanceTarget, type LoadOptions } from './load.ts';
export { receiverConformance, RECEIVER_INPUT } from './receiver-harness.ts';
export { sinkConformance, sinkRecords } from './sink-harness.ts';
export { storageConformance } from './storage-harness.ts';
export { storageSuite, type StorageUnderTest } from '../storage/suite.ts';
export { openWritePath, type WritePath } from './write-path.ts';

/** How to run the kit. */
export interface ConformanceOptions extends LoadOptions {
  /** A driver, or the path of a module whose default export is a {@link DriverFactory}. */
  driver?: DriverFactory | string;
  /** Root logger of the plugin under test; default silent (set LOG_LEVEL to see logs). */
  logger?: Logger;
  /** Time a plugin may take to open or start, ms. */
  timeoutMs?: number;
}

/**
 * Loads `spec` with the real loader, checks the config in `configFile` against its schema,
 * and registers the harness of its kind as `node:test` tests. Rejects with the loader's or
 * the schema check's coded error. An API plugin has no harness yet: it is loaded and checked.
 */
export async function conformance(
  spec: string,
  configFile: string,
  opts: ConformanceOptions = {},
): Promise<ConformanceTarget> {
  const target = await loadTarget(spec, resolve(opts.cwd ?? '.', configFile), opts);
  const logger = opts.logger ?? createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
  const factory = await driverFactory(opts.driver, opts.cwd);
  const driver = factory ? await factory({ kind: target.kind, config: target.config }) : undefined;
  const args = { logger, driver, timeoutMs: opts.timeoutMs };

  if (driver?.close) after(() => driver.close!());
  if (target.kind === 'storage') storageConformance(target as ConformanceTarget<'storage'>, args);
  if (target.kind === 'receiver')
    receiverConformance(target as ConformanceTarget<'receiver'>, args);
  if (target.kind === 'sink') sinkConformance(target as ConformanceTarget<'sink'>, args);
  return target;
}

async function driverFactory(
  driver: ConformanceOptions['driver'],
  cwd = '.',
): Promise<DriverFactory | undefined> {
  if (typeof driver !== 'string') return driver;
  const mod = (await import(pathToFileURL(resolve(cwd, driver)).href)) as {
    default?: DriverFactory;
  };
  if (typeof mod.default !== 'function') {
    throw createError(
      'CCES_ERR_PLUGIN_BAD_SHAPE',
      `conformance driver ${driver}: expected a default export that is a function, found none`,
      { driver },
    );
  }
  return mod.default;
}
