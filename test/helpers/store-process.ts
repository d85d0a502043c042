/**
 * Runs the real `cc-event-store` as a child process, for end-to-end suites that stop, kill
 * and restart it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './samples.ts';

/** Counters by scope and the database sizes, as `GET /api/stats` answers. */
export type StoreStats = Record<string, Record<string, number>> & {
  database: { events: number; logs: number; rejected: number };
};

/** A running store process. */
export class StoreProcess {
  readonly proc: ChildProcess;
  /** Base URL of its REST API. */
  readonly api: string;
  /** Its log lines (pino JSON), for failure messages. */
  readonly logs: string[];

  private constructor(proc: ChildProcess, api: string, logs: string[]) {
    this.proc = proc;
    this.api = api;
    this.logs = logs;
  }

  /** Starts the store on `configPath` and resolves once it logged "store started". */
  static start(configPath: string, env: Record<string, string> = {}): Promise<StoreProcess> {
    const bin = join(repoRoot, 'scripts/cc-event-store.mjs');
    const proc = spawn(process.execPath, [bin, '--config', configPath], {
      env: { ...process.env, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: string[] = [];
    return new Promise((resolve, reject) => {
      let rest = '';
      proc.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
      proc.stdout!.on('data', (d: Buffer) => {
        const parts = (rest + d.toString()).split('\n');
        rest = parts.pop()!;
        for (const line of parts) {
          logs.push(line);
          const entry = parseLine(line);
          if (entry?.msg === 'store started') {
            const { host, port } = entry.api as { host: string; port: number };
            resolve(new StoreProcess(proc, `http://${host}:${port}`, logs));
          }
        }
      });
      proc.once('exit', (code) =>
        reject(new Error(`store exited (${code}) before it started:\n${logs.join('\n')}`)),
      );
    });
  }

  /** Reads `GET /api/stats`. */
  async stats(): Promise<StoreStats> {
    const res = await fetch(`${this.api}/api/stats`);
    return (await res.json()) as StoreStats;
  }

  /** One counter, 0 when absent. */
  async counter(scope: string, name: string): Promise<number> {
    return (await this.stats())[scope]?.[name] ?? 0;
  }

  /** SIGTERM (a clean stop) and wait for the exit code. */
  stop(): Promise<number | null> {
    return this.#signal('SIGTERM');
  }

  /** SIGKILL: the store dies at once, mid-write. */
  kill(): Promise<number | null> {
    return this.#signal('SIGKILL');
  }

  #signal(signal: NodeJS.Signals): Promise<number | null> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      return Promise.resolve(this.proc.exitCode);
    }
    const exited = new Promise<number | null>((r) => this.proc.once('exit', (code) => r(code)));
    this.proc.kill(signal);
    return exited;
  }
}

/** Writes a central config with inline components into `dir`; returns its path. */
export function writeStoreConfig(
  dir: string,
  receivers: Record<string, unknown>,
  storage: Record<string, unknown> = {},
  file = 'config.json',
): string {
  const config = {
    receivers,
    storage: {
      retention_time: '0',
      flush_time: '5ms',
      backend: { type: 'sqlite', database_path: 'events.db' },
      ...storage,
    },
    api: { address: '127.0.0.1', port: 0 },
  };
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

function parseLine(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    // Not a pino line (a stack trace or a tsx warning): kept in `logs` only.
    return undefined;
  }
}
