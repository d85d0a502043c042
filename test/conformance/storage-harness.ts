/**
 * The storage harness: the shared storage suite (write and read back, every filter, order,
 * pagination, duplicates, retention, persistence across restart, concurrent reads, bad
 * input) against a loaded storage plugin, each test in a fresh folder.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Logger } from 'pino';
import type { Storage } from '../../core/contracts/storage.ts';
import { createInstance, startWithin } from '../../core/plugin-lifecycle.ts';
import { storageSuite } from '../storage/suite.ts';
import type { ConformanceDriver } from './driver.ts';
import { slotOf, type ConformanceTarget } from './load.ts';

/**
 * Registers the shared storage suite for `target`. Each test creates the plugin with the
 * config (or `driver.configFor(n)`) and a fresh temp folder as its config folder, so
 * relative data paths start empty; `reopen` creates a new instance over the same place.
 */
export function storageConformance(
  target: ConformanceTarget<'storage'>,
  opts: { logger: Logger; driver?: ConformanceDriver; timeoutMs?: number },
): void {
  const root = mkdtempSync(join(tmpdir(), 'cces-kit-storage-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const { driver, logger } = opts;
  let n = 0;

  storageSuite(target.plugin.definition.type, async () => {
    const test = n++;
    const dir = join(root, `test-${test}`);
    mkdirSync(dir);
    const base = driver?.config ?? target.config;
    const config = driver?.configFor ? await driver.configFor(test, base) : base;
    const slot = slotOf(target, config, dir);
    const open = async (): Promise<Storage> => {
      const ctx = { name: slot.name, logger, configDir: dir };
      const storage = await createInstance(slot, ctx);
      await startWithin(slot, 'open', () => storage.open(), opts.timeoutMs ?? 30_000);
      return storage;
    };

    let current = await open();
    return {
      storage: current,
      reopen: async () => {
        await current.close();
        return (current = await open());
      },
      cleanup: async () => {
        await current.close();
        await driver?.cleanupFor?.(test);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
}
