/**
 * The plugin loader: finds a plugin module by built-in type name, path or package name,
 * imports it (`.ts` too, under tsx), and checks what it got: a default export of the right
 * shape, kind and contract version. Every failure is a coded error that names the config
 * file, the key, the resolved path, what was expected and what was found.
 *
 * A plugin's config is checked against its `configSchema` by core/config/schema-check.ts,
 * where object schemas are closed unless they declare `additionalProperties` themselves.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import semver from 'semver';
import type { ApiExtension } from './contracts/api.ts';
import { CONTRACT_VERSION } from './contracts/plugin.ts';
import type { PluginDefinition, PluginKind } from './contracts/plugin.ts';
import { describeValue, listNames, problemError } from './config/problem.ts';
import type { ConfigWhere } from './config/problem.ts';
import { closest } from './config/schema-check.ts';
import type { BuiltinMap } from '../plugins/builtins.ts';

/** A plugin module that passed every check, ready for its config and factory. */
export interface LoadedPlugin<K extends PluginKind = PluginKind> {
  definition: PluginDefinition<K>;
  /** The type value as written in the config. */
  spec: string;
  /** Absolute path of the module file. */
  resolved: string;
  /** The key that named the plugin (its `type`). */
  where: ConfigWhere;
}

const PATH_LIKE = /^(\.{1,2}[\\/]|[\\/]|file:|[A-Za-z]:[\\/])|\.(ts|mts|js|mjs|cjs)$/;
const INDEX_FILES = ['index.ts', 'index.mts', 'index.js', 'index.mjs'];
const MEMBERS = ['kind', 'type', 'contract', 'configSchema', 'create'] as const;

/**
 * Loads and checks the plugin named by `typeOrPath` for a slot of `kind`. A built-in type
 * name comes from `builtins`; a value that starts with `./`, `../` or `/` (or ends in a
 * script extension) is a path relative to `where.file`; anything else is a package name.
 */
export async function loadPlugin<K extends PluginKind>(
  kind: K,
  typeOrPath: string,
  where: ConfigWhere,
  builtins: BuiltinMap,
): Promise<LoadedPlugin<K>> {
  const resolved = resolveModule(kind, typeOrPath, where, builtins);
  const def = await importDefault(resolved, where, `a ${kind} plugin module`);
  checkShape(def, kind, { where, resolved });
  return { definition: def as PluginDefinition<K>, spec: typeOrPath, resolved, where };
}

/**
 * Loads a site API extension named by path (relative to `where.file`) or package name: its
 * default export must be a Fastify plugin function.
 */
export async function loadApiExtension(
  spec: string,
  where: ConfigWhere,
): Promise<{ plugin: ApiExtension['plugin']; resolved: string }> {
  const resolved = resolveModule('api extension', spec, where, undefined);
  const plugin = await importDefault(resolved, where, 'an API extension module');
  if (typeof plugin !== 'function') {
    throw problemError('CCES_ERR_PLUGIN_BAD_SHAPE', {
      summary: 'API extension has the wrong shape',
      where,
      resolved,
      expected: 'a default export that is a Fastify plugin function (async (app, opts) => {...})',
      found: describeValue(plugin),
      fix: 'export the Fastify plugin as the default export, wrapped with fastify-plugin',
    });
  }
  return { plugin: plugin as ApiExtension['plugin'], resolved };
}

/** Imports a resolved module and returns its default export. Throws IMPORT or NO_DEFAULT_EXPORT. */
async function importDefault(resolved: string, where: ConfigWhere, what: string): Promise<unknown> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
  } catch (err) {
    throw problemError(
      'CCES_ERR_PLUGIN_IMPORT',
      {
        where,
        resolved,
        summary: 'plugin module failed to import',
        expected: `${what} that imports cleanly`,
        found: `an error: ${firstLine(err)}`,
        fix: 'fix the error in the module or in what it imports',
      },
      err,
    );
  }

  if (mod.default !== undefined) return mod.default;
  const names = Object.keys(mod);
  throw problemError('CCES_ERR_PLUGIN_NO_DEFAULT_EXPORT', {
    where,
    resolved,
    summary: 'plugin module has no default export',
    expected: what.startsWith('an API')
      ? 'a default export (the Fastify plugin)'
      : 'a default export made with definePlugin({ kind, type, contract, configSchema, create })',
    found: names.length === 0 ? 'no exports' : `only the named exports ${listNames(names)}`,
    fix: 'add a default export to the module',
  });
}

/** The module file a type value names. Throws NOT_FOUND or UNKNOWN_TYPE. */
function resolveModule(
  kind: string,
  spec: string,
  where: ConfigWhere,
  builtins: BuiltinMap | undefined,
): string {
  const what = kind === 'api extension' ? 'an API extension module' : `a ${kind} plugin module`;
  const table: Readonly<Record<string, string>> = builtins?.[kind as PluginKind] ?? {};
  if (Object.hasOwn(table, spec)) {
    const path = table[spec]!;
    if (existsSync(path)) return path;
    throw notFound(
      what,
      where,
      path,
      'no such file',
      `reinstall the store; its built-in ${kind} "${spec}" is missing`,
    );
  }
  if (PATH_LIKE.test(spec)) {
    const path = spec.startsWith('file:')
      ? fileURLToPath(spec)
      : resolve(dirname(where.file), spec);
    const file = existingModule(path);
    if (file) return file;
    const fix = 'correct the path; a relative path resolves against the folder of this config file';
    throw notFound(what, where, path, 'no such file', fix);
  }

  const pkg = resolvePackage(spec, where.file);
  if (pkg) return pkg;
  if (builtins && /^[\w-]+$/.test(spec))
    throw unknownType(kind as PluginKind, spec, where, builtins);
  const searched = `package "${spec}" (searched from ${dirname(where.file)})`;
  const fix = `install "${spec}" or correct the name`;
  throw notFound(what, where, searched, 'no installed package of that name', fix);
}

function existingModule(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  if (!statSync(path).isDirectory()) return path;
  return INDEX_FILES.map((f) => join(path, f)).find((f) => existsSync(f));
}

/** Resolves a package from the config file's folder, then from the store's own packages. */
function resolvePackage(spec: string, configFile: string): string | undefined {
  try {
    return createRequire(configFile).resolve(spec);
  } catch {
    // An ESM-only package has no "require" export; try the import conditions next.
  }
  try {
    const url = import.meta.resolve(spec);
    return url.startsWith('file:') ? fileURLToPath(url) : undefined;
  } catch {
    // Not installed anywhere we look: the caller reports it with the known types.
    return undefined;
  }
}

function notFound(what: string, where: ConfigWhere, resolved: string, found: string, fix: string) {
  return problemError('CCES_ERR_PLUGIN_NOT_FOUND', {
    summary: 'plugin module not found',
    where,
    resolved,
    expected: what,
    found,
    fix,
  });
}

function unknownType(kind: PluginKind, spec: string, where: ConfigWhere, builtins: BuiltinMap) {
  const known = Object.keys(builtins[kind]);
  const guess = closest(spec, known);
  const hint = guess ? `did you mean "${guess}"? ` : '';
  const elsewhere = (Object.keys(builtins) as PluginKind[]).filter(
    (k) => k !== kind && Object.hasOwn(builtins[k], spec),
  );
  const note =
    elsewhere.length === 0 ? '' : ` ("${spec}" is a built-in ${elsewhere.join(' and ')})`;
  return problemError('CCES_ERR_PLUGIN_UNKNOWN_TYPE', {
    summary: 'unknown plugin type',
    where,
    expected:
      `a built-in ${kind} type (${listNames(known)}), ` +
      `a path such as "./my-${kind}.ts" or a package name`,
    found: `${JSON.stringify(spec)}${note}`,
    fix: `${hint}use a built-in type, or give the path of the plugin module`,
  });
}

/** Checks members, kind and contract range of a default export. */
function checkShape(
  def: unknown,
  kind: PluginKind,
  base: { where: ConfigWhere; resolved: string },
) {
  const obj = (typeof def === 'object' && def !== null ? def : {}) as Record<string, unknown>;
  const bad = MEMBERS.filter((m) => !memberOk(m, obj[m]));
  if (typeof def !== 'object' || def === null || bad.length > 0) {
    throw problemError('CCES_ERR_PLUGIN_BAD_SHAPE', {
      ...base,
      summary: 'plugin default export has the wrong shape',
      expected:
        'an object with kind, type and contract (strings), ' +
        'configSchema (a TypeBox schema) and create (a function)',
      found:
        typeof def === 'object' && def !== null
          ? `an object lacking ${bad.join(', ')}`
          : describeValue(def),
      fix: 'export the plugin with definePlugin({ kind, type, contract, configSchema, create })',
    });
  }
  if (obj.kind !== kind) {
    throw problemError('CCES_ERR_PLUGIN_WRONG_KIND', {
      ...base,
      summary: 'plugin is of the wrong kind',
      expected: `a ${kind} plugin`,
      found: `a ${String(obj.kind)} plugin of type ${JSON.stringify(obj.type)}`,
      fix: `name a ${kind} plugin here, or move this one to the ${String(obj.kind)} config`,
    });
  }
  const range = obj.contract as string;
  const valid = semver.validRange(range) !== null;
  if (!valid || !semver.satisfies(CONTRACT_VERSION, range)) {
    throw problemError('CCES_ERR_PLUGIN_CONTRACT_VERSION', {
      ...base,
      summary: 'plugin contract version not supported',
      expected: `a contract range that includes ${CONTRACT_VERSION}`,
      found: valid
        ? `the range ${JSON.stringify(range)}`
        : `the invalid range ${JSON.stringify(range)}`,
      fix: `use a version of the plugin built for contract ${semver.major(CONTRACT_VERSION)}.x`,
    });
  }
}

function memberOk(name: (typeof MEMBERS)[number], value: unknown): boolean {
  if (name === 'create') return typeof value === 'function';
  if (name === 'configSchema') return typeof value === 'object' && value !== null;
  return typeof value === 'string' && value !== '';
}

/** The first line of an error's message, for one-line reports. */
export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  const line = text.split('\n', 1)[0]!.trim();
  return typeof code === 'string' && code.startsWith('CCES_ERR_') ? `${code}: ${line}` : line;
}
