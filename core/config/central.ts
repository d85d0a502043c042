/**
 * The central config file: it names the component configs (receivers, storage, api, sinks)
 * relative to itself, as ClusterCockpit tools do, or holds them inline.
 */
import { dirname, resolve } from 'node:path';
import { readJsonFile } from './files.ts';
import { unknownKeyError } from './schema-check.ts';
import { childKey, describeValue, problemError } from './problem.ts';

/** The components the central file names. */
export type ComponentName = 'receivers' | 'storage' | 'api' | 'sinks';

/** Where one component's config came from, and its parsed value. */
export interface ComponentSource {
  /** The file holding the component: its own file, or the central file when inline. */
  file: string;
  /** Folder of `file`; relative paths inside the component resolve here. */
  dir: string;
  /** JSON pointer of the component inside `file`: `''` for a file of its own. */
  key: string;
  value: unknown;
}

/** The central file, read and with every component file loaded. */
export interface CentralConfig {
  file: string;
  receivers: ComponentSource;
  storage: ComponentSource;
  api: ComponentSource;
  sinks?: ComponentSource;
}

/** Accepted spellings of each component key; the first is the preferred one. */
export const COMPONENT_KEYS: Record<ComponentName, readonly string[]> = {
  receivers: ['receivers', 'receivers-file', 'receiver-file'],
  storage: ['storage', 'storage-file'],
  api: ['api', 'api-file'],
  sinks: ['sinks', 'sinks-file'],
};

const REQUIRED: readonly ComponentName[] = ['receivers', 'storage', 'api'];

/**
 * Reads the central config at `path` and each component it names. Throws
 * `CCES_ERR_CONFIG_NOT_FOUND`, `CCES_ERR_CONFIG_PARSE`, `CCES_ERR_CONFIG_INVALID` or
 * `CCES_ERR_CONFIG_UNKNOWN_KEY`.
 */
export function readCentralConfig(path: string): CentralConfig {
  const file = resolve(path);
  const top = readJsonFile(file);
  if (top === null || typeof top !== 'object' || Array.isArray(top)) {
    throw problemError('CCES_ERR_CONFIG_INVALID', {
      summary: 'invalid central config',
      where: { file, key: '' },
      expected: 'an object naming the receivers, storage and api configs',
      found: describeValue(top),
      fix: 'write {"receivers": "receivers.json", "storage": "storage.json", "api": "api.json"}',
    });
  }

  const entries = top as Record<string, unknown>;
  const known = Object.values(COMPONENT_KEYS).flat();
  for (const key of Object.keys(entries)) {
    if (!known.includes(key)) throw unknownKeyError(file, childKey('', key), key, known);
  }
  const out: Partial<CentralConfig> = { file };
  for (const name of Object.keys(COMPONENT_KEYS) as ComponentName[]) {
    const source = readComponent(file, entries, name);
    if (source) out[name] = source;
  }
  return out as CentralConfig;
}

function readComponent(
  file: string,
  entries: Record<string, unknown>,
  name: ComponentName,
): ComponentSource | undefined {
  const given = COMPONENT_KEYS[name].filter((k) => entries[k] !== undefined);
  if (given.length > 1) {
    throw problemError('CCES_ERR_CONFIG_INVALID', {
      summary: 'component named twice',
      where: { file, key: childKey('', given[1]!) },
      expected: `only one of the keys ${given.map((k) => `"${k}"`).join(', ')}`,
      found: 'both',
      fix: 'keep one of them',
    });
  }
  if (given.length === 0) {
    if (!REQUIRED.includes(name)) return undefined;
    throw problemError('CCES_ERR_CONFIG_INVALID', {
      summary: 'missing config key',
      where: { file, key: childKey('', name) },
      expected: `the ${name} config: a file name relative to this file, or an inline object`,
      found: 'nothing',
      fix: `add "${name}": "${name}.json"`,
    });
  }

  const key = childKey('', given[0]!);
  const value = entries[given[0]!];
  if (typeof value === 'string' && value !== '') {
    const path = resolve(dirname(file), value);
    return { file: path, dir: dirname(path), key: '', value: readJsonFile(path, { file, key }) };
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return { file, dir: dirname(file), key, value };
  }
  throw problemError('CCES_ERR_CONFIG_INVALID', {
    summary: 'invalid config value',
    where: { file, key },
    expected: `the ${name} config: a file name relative to this file, or an inline object`,
    found: describeValue(value),
    fix: `write "${given[0]}": "${name}.json" or an inline object`,
  });
}
