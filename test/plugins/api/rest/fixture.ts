/**
 * A real REST API over a real SQLite database in a temp dir: storage plugin, storage
 * manager, router, ingest and stats as the host wires them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { ApiContext, ApiExtension } from '../../../../core/contracts/api.ts';
import { CommitFeed } from '../../../../core/commit-feed.ts';
import type { Storage } from '../../../../core/contracts/storage.ts';
import { createIngest } from '../../../../core/ingest.ts';
import { Router } from '../../../../core/router.ts';
import { Stats } from '../../../../core/stats.ts';
import { StorageManager, storageManagerOptions } from '../../../../core/storage-manager.ts';
import { buildRestApp, type RestApiOptions } from '../../../../plugins/api/rest/server.ts';
import type { HttpApp } from '../../../../plugins/shared/http/app.ts';
import sqlitePlugin from '../../../../plugins/storage/sqlite/index.ts';

/** A running API and what it is built on. */
export interface ApiFixture {
  app: HttpApp;
  ctx: ApiContext;
  storage: Storage;
  manager: StorageManager;
  stats: Stats;
  /** Folder holding the database file `events.db`. */
  dir: string;
  close(): Promise<void>;
}

/** Settings of a fixture. */
export interface FixtureOptions extends Partial<RestApiOptions> {
  /** More keys of the SQLite backend config. */
  sqlite?: Record<string, unknown>;
  maxQueue?: number;
  batchSize?: number;
  flushTime?: string;
  /** Storage retention_time; default "0" (keep everything). */
  retentionTime?: string;
  extensions?: ApiExtension[];
  logger?: Logger;
  /** Awaited before each storage write: holds commits (the database itself stays real). */
  holdWrites?: () => Promise<void>;
}

/** Builds a fresh database and API; call `close()` in `after`. */
export async function makeApi(opts: FixtureOptions = {}): Promise<ApiFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'cces-api-'));
  const logger = opts.logger ?? pino({ level: 'silent' });
  const storage = (await sqlitePlugin.create(
    { database_path: 'events.db', ...opts.sqlite },
    { name: 'sqlite', logger, configDir: dir },
  )) as Storage;
  await storage.open();
  const hold = opts.holdWrites;
  if (hold) {
    const write = storage.write.bind(storage);
    storage.write = async (batch) => {
      await hold();
      return write(batch);
    };
  }

  const stats = new Stats();
  const commits = new CommitFeed();
  const manager = new StorageManager(
    storage,
    storageManagerOptions({
      backend: { type: 'sqlite' },
      retention_time: opts.retentionTime ?? '0',
      flush_time: opts.flushTime ?? '10ms',
      batch_size: opts.batchSize ?? 1000,
      max_queue: opts.maxQueue ?? 100_000,
    }),
    { logger, stats, onCommit: (n) => commits.publish(n) },
  );
  await manager.start();
  const router = new Router(manager, [], stats, logger);
  const ctx: ApiContext = {
    storage,
    ingest: createIngest({ router, storage: manager, stats, logger }, 'api'),
    stats: () => stats.snapshot(),
    ready: () => manager.ready(),
    logger,
    extensions: opts.extensions ?? [],
    commits,
  };
  const app = await buildRestApp(
    {
      address: '127.0.0.1',
      port: 0,
      jwtPublicKey: opts.jwtPublicKey ?? '',
      maxBodySize: opts.maxBodySize ?? 64 * 1024 * 1024,
      idleTimeoutMs: opts.idleTimeoutMs ?? 5000,
      keepAlives: opts.keepAlives ?? true,
      enableSwaggerUi: opts.enableSwaggerUi,
      tailLimits: opts.tailLimits,
    },
    ctx,
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await app.close();
      await manager.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    })());
  return { app, ctx, storage, manager, stats, dir, close };
}
