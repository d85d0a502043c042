/**
 * Shared pieces of the hardening suites and the long-form scripts: a config folder for the
 * real store process on any backend, raw HTTP helpers, and the log check for secrets.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreProcess } from '../helpers/store-process.ts';

/** Storage backends the hardening suites run against. */
export type Backend = 'sqlite' | 'postgres' | 'duckdb';

/** What a hardening store needs besides the defaults. */
export interface HardenedStoreOptions {
  backend: Backend;
  /** Postgres database name (the test creates it). */
  pgDatabase?: string;
  /** Postgres password written into the config: it must never reach a log line. */
  pgPassword?: string;
  api?: Record<string, unknown>;
  storage?: Record<string, unknown>;
  /** More keys of the backend section, such as SQLite's `synchronous`. */
  backendExtra?: Record<string, unknown>;
  receivers?: Record<string, unknown>;
  env?: Record<string, string>;
}

/** A temp folder with a config and a running store on it. */
export interface HardenedStore {
  dir: string;
  store: StoreProcess;
  /** Database file of file-based backends. */
  dbPath: string;
  configPath: string;
}

/** The backend section of storage.json for `opts`. */
export function backendConfig(opts: HardenedStoreOptions, dir: string): Record<string, unknown> {
  if (opts.backend === 'postgres') {
    return {
      type: 'postgres',
      server: '127.0.0.1',
      port: 5432,
      username: 'postgres',
      password: opts.pgPassword ?? '',
      database_path: opts.pgDatabase,
      ...opts.backendExtra,
    };
  }
  const file = opts.backend === 'duckdb' ? 'events.duckdb' : 'events.db';
  return { type: opts.backend, database_path: join(dir, file), ...opts.backendExtra };
}

/**
 * A JetStream receiver on the local server that creates its stream `tag` in upper case over
 * subjects `<tag>.>` and reads it through the durable consumer `store`, cluster `crash`.
 */
export function jetstreamReceiver(tag: string, extra: Record<string, unknown> = {}) {
  return {
    js: {
      type: 'nats',
      address: '127.0.0.1',
      port: 4222,
      mode: 'jetstream',
      stream: tag.toUpperCase(),
      durable: 'store',
      subject: `${tag}.>`,
      cluster: 'crash',
      create: { subjects: [`${tag}.>`] },
      ...extra,
    },
  };
}

/** Environment that caps a store's V8 heap at `mb` MiB; empty without a cap. */
export function heapCapEnv(mb: string | undefined): Record<string, string> {
  return mb ? { NODE_OPTIONS: `--max-old-space-size=${mb}` } : {};
}

/** Writes the config into a fresh temp folder (or `dir`); returns the paths. */
export function writeHardenedConfig(opts: HardenedStoreOptions, dir?: string) {
  const folder = dir ?? mkdtempSync(join(tmpdir(), 'cces-hard-'));
  const backend = backendConfig(opts, folder);
  const config = {
    receivers: opts.receivers ?? {},
    storage: { retention_time: '0', flush_time: '5ms', ...opts.storage, backend },
    api: { address: '127.0.0.1', port: 0, ...opts.api },
  };
  const configPath = join(folder, 'config.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  return { dir: folder, configPath, dbPath: String(backend.database_path) };
}

/** Writes a config and starts the real store process on it. */
export async function startHardenedStore(opts: HardenedStoreOptions): Promise<HardenedStore> {
  const paths = writeHardenedConfig(opts);
  const store = await StoreProcess.start(paths.configPath, opts.env);
  return { ...paths, store };
}

/** Stops the store and removes its folder. */
export async function removeHardenedStore(h: HardenedStore | undefined): Promise<void> {
  if (h === undefined) return;
  await h.store.kill();
  rmSync(h.dir, { recursive: true, force: true });
}

/** Log lines (of `logs`) that contain any of `secrets`. */
export function linesWithSecrets(logs: readonly string[], secrets: readonly string[]): string[] {
  const wanted = secrets.filter((s) => s.length > 0);
  return logs.filter((line) => wanted.some((s) => line.includes(s)));
}

/** An HTTP answer read completely. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with node's http client, so that headers and bodies can be anything. */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Number of events and logs in the database, as `GET /api/stats` reports. */
export async function databaseCounts(store: StoreProcess, headers: Record<string, string> = {}) {
  const res = await fetch(`${store.api}/api/stats`, { headers });
  const body = (await res.json()) as { database: { events: number; logs: number } };
  return { events: body.database.events, logs: body.database.logs };
}
