/**
 * The SQLite storage plugin, the embedded default backend.
 *
 * Config: `database_path` (a file, relative to the config file's folder; its folder is
 * created), `busy_timeout` (duration, default "5s"), `synchronous` (`NORMAL` default,
 * `FULL`, `EXTRA`), `cache_size` (SQLite semantics, default -32768 = 32 MiB),
 * `background_checkpoint` (default true: WAL checkpoints run in a worker thread),
 * `writer_thread` (default true: events and logs are inserted by a worker thread),
 * `writer_thread_min_rows` (smaller batches stay on the main connection while the thread is
 * idle; default 200), and the
 * original's `flags` list (`_timeout=5000`, `_busy_timeout`, `_sync`/`_synchronous`,
 * `_cache_size`, `_journal=WAL`). `username`/`password` of the original are accepted and
 * ignored: SQLite has no users.
 */
import { isAbsolute, resolve } from 'node:path';
import { Type } from 'typebox';
import { definePlugin } from '../../../core/contracts/plugin.ts';
import { parseDurationMs } from '../../../core/duration.ts';
import { createError } from '../../../core/errors.ts';
import { SqliteStorage, type SqliteOptions } from './sqlite-storage.ts';

const Synchronous = Type.Union([
  Type.Literal('NORMAL'),
  Type.Literal('FULL'),
  Type.Literal('EXTRA'),
]);

/** The plugin's config schema. */
export const SqliteConfigSchema = Type.Object(
  {
    database_path: Type.String({ minLength: 1 }),
    busy_timeout: Type.Optional(Type.String()),
    synchronous: Type.Optional(Synchronous),
    cache_size: Type.Optional(Type.Integer()),
    background_checkpoint: Type.Optional(Type.Boolean()),
    writer_thread: Type.Optional(Type.Boolean()),
    writer_thread_min_rows: Type.Optional(Type.Integer({ minimum: 1 })),
    flags: Type.Optional(Type.Array(Type.String())),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

type FlagSettings = Partial<Pick<SqliteOptions, 'busyTimeoutMs' | 'synchronous' | 'cacheSize'>>;

const FLAG_NAMES = [
  '_timeout',
  '_busy_timeout',
  '_sync',
  '_synchronous',
  '_cache_size',
  '_journal',
];

/** Reads the original's go-sqlite3 style open flags. */
export function parseFlags(flags: readonly string[]): FlagSettings {
  const out: FlagSettings = {};
  for (const flag of flags) {
    const [name = '', value = ''] = flag.split('=', 2);
    const bad = (expected: string) =>
      createError('CCES_ERR_CONFIG_INVALID', `sqlite flag "${flag}": expected ${expected}`, {
        flag,
        known: FLAG_NAMES,
      });
    if (name === '_timeout' || name === '_busy_timeout') {
      if (!/^\d+$/.test(value)) throw bad('milliseconds');
      out.busyTimeoutMs = Number(value);
    } else if (name === '_sync' || name === '_synchronous') {
      const v = value.toUpperCase();
      if (v !== 'NORMAL' && v !== 'FULL' && v !== 'EXTRA') throw bad('NORMAL, FULL or EXTRA');
      out.synchronous = v;
    } else if (name === '_cache_size') {
      if (!/^-?\d+$/.test(value)) throw bad('an integer');
      out.cacheSize = Number(value);
    } else if (name === '_journal' || name === '_journal_mode') {
      // The store relies on WAL (readers beside the writer, commit without a journal copy).
      if (value.toUpperCase() !== 'WAL') throw bad('WAL');
    } else {
      throw bad(`one of ${FLAG_NAMES.join(', ')}`);
    }
  }
  return out;
}

export default definePlugin({
  kind: 'storage',
  type: 'sqlite',
  contract: '^1.0.0',
  configSchema: SqliteConfigSchema,
  create(config, ctx) {
    const fromFlags = parseFlags(config.flags ?? []);
    const path = isAbsolute(config.database_path)
      ? config.database_path
      : resolve(ctx.configDir, config.database_path);
    return new SqliteStorage({
      path,
      busyTimeoutMs:
        config.busy_timeout !== undefined
          ? parseDurationMs(config.busy_timeout)
          : (fromFlags.busyTimeoutMs ?? 5000),
      // NORMAL in WAL mode: a committed (and so acknowledged) batch survives kill -9 of the
      // store; only a power loss or OS crash may lose the last commits. FULL covers that too
      // at the cost of one fsync per commit.
      synchronous: config.synchronous ?? fromFlags.synchronous ?? 'NORMAL',
      cacheSize: config.cache_size ?? fromFlags.cacheSize ?? -32768,
      backgroundCheckpoint: config.background_checkpoint ?? true,
      writerThread: config.writer_thread ?? true,
      threadMinRows: config.writer_thread_min_rows ?? 200,
      logger: ctx.logger,
    });
  },
});
