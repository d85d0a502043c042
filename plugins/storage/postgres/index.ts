/**
 * The `postgres` storage plugin: events and logs in PostgreSQL, partitioned by day.
 *
 * Config, as the original: `server` (default localhost, or a socket folder), `port` (5432),
 * `database_path` (the database name), `username`, `password`, `flags` (libpq URL
 * parameters such as `["sslmode=require"]`, or one string of them), `connection_timeout`
 * (seconds as a number, or a duration; default 5s). Or `connection_string` instead of those.
 * Also `pool_size` (default 8), `schema` (default `public`), `partition_days_ahead`
 * (daily partitions created ahead, default 2) and `partition_days_back` (how far back a
 * batch still gets its own daily partition, default 7; older rows go to the default
 * partition), `write_timeout` (a write left unanswered this long has its connection cut and
 * counts as the server being away; default 60s), `write_concurrency` (batches written at
 * once, each on its own pooled connection; default 2). See README.md beside this file.
 */
import { definePlugin } from '../../../core/contracts/plugin.ts';
import { connectionSettings, PostgresConfigSchema } from './connection.ts';
import { PostgresStorage } from './postgres-storage.ts';

export { PostgresConfigSchema };

export default definePlugin({
  kind: 'storage',
  type: 'postgres',
  contract: '^1.0.0',
  configSchema: PostgresConfigSchema,
  create(config, ctx) {
    return new PostgresStorage({
      connection: connectionSettings(config),
      schema: config.schema ?? 'public',
      partitions: {
        ahead: config.partition_days_ahead ?? 2,
        back: config.partition_days_back ?? 7,
      },
      writeConcurrency: config.write_concurrency ?? 2,
      logger: ctx.logger,
    });
  },
});
