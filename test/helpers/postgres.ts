/**
 * Postgres for tests: a throw-away database on the machine's shared server (never stopped
 * by a test), and a private server instance in a temp folder that a fault test may stop.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The shared server of this machine (trust auth). */
export const SHARED = { host: '127.0.0.1', port: 5432, user: 'postgres' } as const;

/** A database created for one test file. */
export interface TestDatabase {
  name: string;
  /** Runs one statement as the admin user in this database. */
  exec(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  /** Drops the database, ending any connection still open to it. */
  drop(): Promise<void>;
}

/** Creates `cces_<prefix>_<random>` on a server (the shared one by default). */
export async function createTestDatabase(
  prefix: string,
  server: { host: string; port: number; user: string } = SHARED,
): Promise<TestDatabase> {
  const name = `cces_${prefix}_${randomBytes(4).toString('hex')}`;
  await adminQuery(server, 'test', `CREATE DATABASE ${name}`).catch(async (err) => {
    // A fresh private instance has no `test` database; `postgres` always exists.
    if ((err as { code?: string }).code !== '3D000') throw err;
    await adminQuery(server, 'postgres', `CREATE DATABASE ${name}`);
  });
  return {
    name,
    exec: (sql, values) => adminQuery(server, name, sql, values),
    drop: async () => {
      await adminQuery(server, 'postgres', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

async function adminQuery(
  server: { host: string; port: number; user: string },
  database: string,
  sql: string,
  values?: unknown[],
): Promise<pg.QueryResult> {
  const client = new pg.Client({ ...server, database });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

const BIN = '/usr/lib/postgresql/15/bin';

/** A Postgres server of its own in a temp folder, run as the `postgres` OS user. */
export class PrivatePostgres {
  readonly dir: string;
  readonly port: number;

  private constructor(dir: string, port: number) {
    this.dir = dir;
    this.port = port;
  }

  /** Initialises a cluster (trust auth) on a free port and starts it. */
  static async create(): Promise<PrivatePostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'cces-pg-'));
    chmodSync(dir, 0o700);
    const { uid, gid } = postgresUser();
    chownSync(dir, uid, gid);
    asPostgres([`${BIN}/initdb`, '-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    const server = new PrivatePostgres(dir, await freePort());
    server.start();
    return server;
  }

  /** Connection settings of the instance's admin user. */
  get server(): { host: string; port: number; user: string } {
    return { host: '127.0.0.1', port: this.port, user: 'postgres' };
  }

  /** Starts the server and waits until it accepts connections. */
  start(): void {
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=on`;
    asPostgres([
      `${BIN}/pg_ctl`,
      '-D',
      this.dir,
      '-o',
      opts,
      '-l',
      `${this.dir}/log`,
      '-w',
      'start',
    ]);
  }

  /** Stops the server (fast mode: connections are ended, nothing committed is lost). */
  stop(): void {
    asPostgres([`${BIN}/pg_ctl`, '-D', this.dir, '-m', 'fast', '-w', 'stop']);
  }

  /** Stops the server if it runs and removes its folder. */
  destroy(): void {
    spawnSync('su', ['postgres', '-c', `${BIN}/pg_ctl -D ${this.dir} -m immediate -w stop`], {
      stdio: 'ignore',
    });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Why the private instance cannot run here (not root, no binaries), or false. */
export function privatePostgresSkip(): string | false {
  if (process.getuid?.() !== 0) return 'a private Postgres needs root to run as the postgres user';
  const found = spawnSync(`${BIN}/pg_ctl`, ['--version'], { stdio: 'ignore' });
  if (found.status !== 0) return `no PostgreSQL 15 binaries under ${BIN}`;
  return false;
}

function asPostgres(argv: string[]): void {
  const cmd = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  execFileSync('su', ['postgres', '-c', cmd], { stdio: 'pipe' });
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  return { uid: id('-u'), gid: id('-g') };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
