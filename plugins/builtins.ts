/**
 * The built-in plugins: the type names configs use (`"type": "sqlite"`) and the module that
 * implements each, per kind. Any other type value is a path or a package name.
 */
import { fileURLToPath } from 'node:url';
import type { PluginKind } from '../core/contracts/plugin.ts';

/** Type name → absolute module path, for each kind of plugin. */
export type BuiltinMap = Record<PluginKind, Readonly<Record<string, string>>>;

function here(path: string): string {
  return fileURLToPath(new URL(path, import.meta.url));
}

/** The plugins that ship with the store. */
export const BUILTINS: BuiltinMap = {
  storage: {
    sqlite: here('./storage/sqlite/index.ts'),
    postgres: here('./storage/postgres/index.ts'),
    duckdb: here('./storage/duckdb/index.ts'),
  },
  receiver: {
    http: here('./receivers/http/index.ts'),
    nats: here('./receivers/nats/index.ts'),
  },
  sink: {
    nats: here('./sinks/nats/index.ts'),
  },
  api: {
    rest: here('./api/rest/index.ts'),
  },
};
