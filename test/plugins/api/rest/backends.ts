/**
 * The three storage backends behind a real REST API, for tests that must give the same
 * answers on each: SQLite and DuckDB in temp dirs, Postgres in a throw-away database.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { ApiContext } from '../../../../core/contracts/api.ts';
import type { Storage } from '../../../../core/contracts/storage.ts';
import { decode } from '../../../../core/lineproto/index.ts';
import { classifyMessage } from '../../../../core/message.ts';
import { buildRecord, type EventRecord } from '../../../../core/record.ts';
import { buildRestApp, type RestApiOptions } from '../../../../plugins/api/rest/server.ts';
import type { HttpApp } from '../../../../plugins/shared/http/app.ts';
import duckdbPlugin from '../../../../plugins/storage/duckdb/index.ts';
import postgresPlugin from '../../../../plugins/storage/postgres/index.ts';
import sqlitePlugin from '../../../../plugins/storage/sqlite/index.ts';
import { createTestDatabase, SHARED } from '../../../helpers/postgres.ts';
import { postgresSkip } from '../../../helpers/services.ts';

const logger = pino({ level: 'silent' });

/** An opened storage and how to get rid of it. */
export interface OpenedStorage {
  storage: Storage;
  /** Folder of a file-based database; undefined for Postgres. */
  dir?: string;
  close(): Promise<void>;
}

/** A backend under test; `skip` is a reason when it cannot run here. */
export interface Backend {
  name: 'sqlite' | 'duckdb' | 'postgres';
  skip: string | false;
  open(): Promise<OpenedStorage>;
}

async function fileBackend(plugin: typeof sqlitePlugin | typeof duckdbPlugin, file: string) {
  const dir = mkdtempSync(join(tmpdir(), 'cces-analytics-'));
  const storage = (await plugin.create(
    { database_path: file },
    { name: 'storage', logger, configDir: dir },
  )) as Storage;
  await storage.open();
  const close = async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { storage, dir, close };
}

/** Every backend, Postgres skipped (outside CI) when its server is down. */
export async function backends(): Promise<Backend[]> {
  const pgSkip = await postgresSkip();
  return [
    { name: 'sqlite', skip: false, open: () => fileBackend(sqlitePlugin, 'events.db') },
    { name: 'duckdb', skip: false, open: () => fileBackend(duckdbPlugin, 'events.duckdb') },
    {
      name: 'postgres',
      skip: pgSkip,
      open: async () => {
        const db = await createTestDatabase('analytics');
        const storage = (await postgresPlugin.create(
          { server: SHARED.host, port: SHARED.port, username: SHARED.user, database_path: db.name },
          { name: 'storage', logger, configDir: '/' },
        )) as Storage;
        await storage.open();
        return {
          storage,
          close: async () => {
            await storage.close();
            await db.drop();
          },
        };
      },
    },
  ];
}

/** Decodes line protocol into records (events and logs only); every entry must be good. */
export function recordsOf(text: string, defaultCluster?: string): EventRecord[] {
  const { messages, errors } = decode(text, { precision: 'auto' });
  assert.deepEqual(errors, []);
  const out: EventRecord[] = [];
  for (const msg of messages) {
    const kind = classifyMessage(msg);
    if (kind !== 'event' && kind !== 'log') continue;
    const built = buildRecord(msg, kind, 1n, defaultCluster);
    assert.ok(built.ok, `line ${msg.line} builds`);
    out.push(built.record);
  }
  return out;
}

/** Writes records straight to storage; every one must be stored. */
export async function writeAll(storage: Storage, records: EventRecord[]): Promise<void> {
  const outcomes = await storage.write(records);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    records.map(() => 'stored'),
  );
}

/** A REST API (no listener) over `storage`; writes through it are refused. */
export async function apiOver(storage: Storage, opts: Partial<RestApiOptions> = {}) {
  const ctx: ApiContext = {
    storage,
    ingest: async () => {
      throw new Error('this test API takes no writes');
    },
    stats: () => ({}),
    ready: async () => true,
    logger,
    extensions: [],
  };
  const app: HttpApp = await buildRestApp(
    {
      address: '127.0.0.1',
      port: 0,
      jwtPublicKey: '',
      maxBodySize: 1024 * 1024,
      idleTimeoutMs: 5000,
      keepAlives: true,
      ...opts,
    },
    ctx,
  );
  return app;
}
