/**
 * The `jsonl` example storage: events, logs and refused input kept in one JSON-lines
 * journal file under `path` (relative to the config file). Written from the plugin guide
 * and the scaffold (`npm run new-plugin -- storage jsonl`); it passes the conformance kit.
 * Every record is held in memory as well, so it suits small sites and tests, not millions
 * of records.
 */
import { definePlugin, Type } from '../../../core/index.ts';
import { JsonlStorage } from './jsonl-storage.ts';

/** The config schema. */
export const JsonlConfigSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'data folder, relative to the config file' }),
  },
  { additionalProperties: false },
);

export default definePlugin({
  kind: 'storage',
  type: 'jsonl',
  contract: '^1.0.0',
  configSchema: JsonlConfigSchema,
  create: (config, ctx) => new JsonlStorage(config.path, ctx),
});
