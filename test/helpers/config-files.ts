/**
 * Temp config folders for config, loader, host and CLI tests, and a built-in table that
 * points at the fixture plugins under test/fixtures/plugins.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { BuiltinMap } from '../../plugins/builtins.ts';
import { repoRoot } from './samples.ts';

/** Folder of the fixture plugins. */
export const fixturesDir = resolve(repoRoot, 'test/fixtures/plugins');

/** Built-ins of the fixture plugins: `memory` storage, `recording` everything else. */
export const fixtureBuiltins: BuiltinMap = {
  storage: { memory: join(fixturesDir, 'memory-storage.ts') },
  receiver: { recording: join(fixturesDir, 'recording-receiver.ts') },
  sink: { recording: join(fixturesDir, 'recording-sink.ts') },
  api: { rest: join(fixturesDir, 'recording-api.ts') },
};

/** A temp folder; `files` maps relative names to JSON values (or raw text) to write. */
export class ConfigDir {
  readonly path: string;

  constructor(files: Record<string, unknown> = {}) {
    this.path = mkdtempSync(join(tmpdir(), 'cces-config-'));
    this.write(files);
  }

  /** Writes more files; strings are written as they are, anything else as JSON. */
  write(files: Record<string, unknown>): void {
    for (const [name, value] of Object.entries(files)) {
      const path = this.file(name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(
        path,
        typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`,
      );
    }
  }

  /** Absolute path of a file in the folder. */
  file(name: string): string {
    return join(this.path, name);
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** The smallest valid set of files for the fixture built-ins, to change per test. */
export function minimalFiles(): Record<string, unknown> {
  return {
    'config.json': { receivers: 'receivers.json', storage: 'storage.json', api: 'api.json' },
    'receivers.json': {},
    'storage.json': { backend: { type: 'memory' } },
    'api.json': {},
  };
}

/** {@link minimalFiles} with a sinks file named in the central file. */
export function minimalFilesWithSinks(sinks: unknown): Record<string, unknown> {
  const files = minimalFiles();
  return {
    ...files,
    'config.json': { ...(files['config.json'] as object), sinks: 'sinks.json' },
    'sinks.json': sinks,
  };
}
