/**
 * The `duckdb` storage plugin: events and logs in a DuckDB database file, for analytics over
 * many events. Config: `database_path` (relative to the config file's folder; its folder is
 * created), and optionally DuckDB's `threads`, `memory_limit` (such as "2GB") and
 * `checkpoint_threshold` (WAL size that triggers a checkpoint, DuckDB's default "16MB"; a
 * larger one writes row groups fewer times under heavy ingest but replays longer after a
 * crash).
 */
import { resolve } from 'node:path';
import { Type } from 'typebox';
import { definePlugin } from '../../../core/contracts/plugin.ts';
import { DuckDbStorage } from './duckdb-storage.ts';

// A DuckDB size setting: "512MB", "2GB", "1.5 GiB".
const SIZE = '^[0-9]+(\\.[0-9]+)? ?[KMGT]?i?B$';

/** The plugin's config schema. */
export const DuckDbConfigSchema = Type.Object(
  {
    database_path: Type.String({ minLength: 1, description: 'database file' }),
    threads: Type.Optional(Type.Integer({ minimum: 1, description: 'DuckDB worker threads' })),
    memory_limit: Type.Optional(Type.String({ pattern: SIZE, description: 'such as "2GB"' })),
    checkpoint_threshold: Type.Optional(
      Type.String({ pattern: SIZE, description: 'WAL size that triggers a checkpoint' }),
    ),
  },
  { additionalProperties: false },
);

export default definePlugin({
  kind: 'storage',
  type: 'duckdb',
  contract: '^1.0.0',
  configSchema: DuckDbConfigSchema,
  create(config, ctx) {
    return new DuckDbStorage({
      path: resolve(ctx.configDir, config.database_path),
      threads: config.threads,
      memoryLimit: config.memory_limit,
      checkpointThreshold: config.checkpoint_threshold,
      logger: ctx.logger,
    });
  },
});
