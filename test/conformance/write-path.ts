/**
 * The real write path into a temp SQLite database, for the receiver harness: SQLite storage,
 * storage manager, router and ingest, as the host wires them, with a way to wait until a
 * number of records is stored.
 */
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ReceiverContext } from '../../core/contracts/receiver.ts';
import type { Storage } from '../../core/contracts/storage.ts';
import { createIngest } from '../../core/ingest.ts';
import { Router } from '../../core/router.ts';
import { Stats } from '../../core/stats.ts';
import { storageManagerOptions } from '../../core/storage-config.ts';
import { StorageManager } from '../../core/storage-manager.ts';
import sqlite from '../../plugins/storage/sqlite/index.ts';

/** A running write path and the context a receiver starts with. */
export interface WritePath {
  ctx: ReceiverContext;
  storage: Storage;
  stats: Stats;
  /** Resolves once storage holds at least `count` events and logs; rejects after `timeoutMs`. */
  waitForStored(count: number, timeoutMs?: number): Promise<void>;
  /** Closes router, manager and storage, and removes the database. */
  close(): Promise<void>;
}

/** Opens a write path counting under `receiver:<name>`. */
export async function openWritePath(name: string, logger: Logger): Promise<WritePath> {
  const dir = mkdtempSync(join(tmpdir(), 'cces-kit-'));
  const storage = await sqlite.create(
    { database_path: 'events.db' },
    { name: 'storage', logger, configDir: dir },
  );
  await storage.open();
  const stats = new Stats();
  const options = storageManagerOptions({ flush_time: '10ms', backend: { type: 'sqlite' } });
  const manager = new StorageManager(storage, { ...options, retentionNs: 0n }, { logger, stats });
  await manager.start();
  const router = new Router(manager, [], stats, logger);

  const scope = `receiver:${name}`;
  const ingest = createIngest({ router, storage: manager, stats, logger }, scope);
  const events = new EventEmitter();
  const ctx: ReceiverContext = {
    ingest: async (input, opts) => {
      const result = await ingest(input, opts);
      events.emit('ingested');
      return result;
    },
    logger,
    count: (counter, n = 1) => stats.add(scope, counter, n),
  };

  const stored = async () => {
    const s = await storage.stats();
    return s.events + s.logs;
  };
  return {
    ctx,
    storage,
    stats,
    async waitForStored(count, timeoutMs = 10_000) {
      const signal = AbortSignal.timeout(timeoutMs);
      for (;;) {
        // Listen before counting, so an ingest that ends during the count is not missed; an
        // unused listener ends with the timeout, which nobody waits for then.
        const next = once(events, 'ingested', { signal });
        if ((await stored()) >= count) return void next.catch(() => undefined);
        await next;
      }
    },
    async close() {
      await router.close();
      await manager.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
