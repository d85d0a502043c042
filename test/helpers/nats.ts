/**
 * Helpers of the NATS suites: unique names on the shared server, a private nats-server that a
 * test may stop and start, the real write path over a temp SQLite database, and the records
 * an input must give.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type { ReceiverContext } from '../../core/contracts/receiver.ts';
import type { Storage } from '../../core/contracts/storage.ts';
import { createIngest } from '../../core/ingest.ts';
import { decode } from '../../core/lineproto/index.ts';
import { classifyMessage } from '../../core/message.ts';
import { buildRecord, extraToJson, type EventRecord } from '../../core/record.ts';
import { Router, type SinkRoute } from '../../core/router.ts';
import { Stats } from '../../core/stats.ts';
import { StorageManager, storageManagerOptions } from '../../core/storage-manager.ts';
import sqlitePlugin from '../../plugins/storage/sqlite/index.ts';
import { reachable } from './services.ts';

/** The machine's shared NATS server. */
export const NATS_URL = 'nats://127.0.0.1:4222';

/** A stream, subject or consumer name no other test run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
}

/** A TCP port free right now on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `cond` every 20 ms until it holds; fails after `timeoutMs` naming `what`. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A nats-server of the test's own (JetStream on), which it may stop and start again. */
export class PrivateNatsServer {
  readonly port: number;
  readonly #storeDir: string;
  readonly #extra: string[];
  #proc?: ChildProcess;

  private constructor(port: number, storeDir: string, extra: string[]) {
    this.port = port;
    this.#storeDir = storeDir;
    this.#extra = extra;
  }

  /**
   * Starts a server on a free port, storing JetStream data under `dir`; `extra` are more
   * server arguments (`-c <config file>`, TLS flags).
   */
  static async start(dir: string, extra: string[] = []): Promise<PrivateNatsServer> {
    const storeDir = join(dir, `nats-store-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(storeDir, { recursive: true });
    const server = new PrivateNatsServer(await freePort(), storeDir, extra);
    await server.resume();
    return server;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts the server process (again) and waits until it takes connections. */
  async resume(): Promise<void> {
    const args = [
      ...this.#extra,
      '-a',
      '127.0.0.1',
      '-p',
      String(this.port),
      '-js',
      '-sd',
      this.#storeDir,
    ];
    this.#proc = spawn('/usr/sbin/nats-server', args, { stdio: 'ignore' });
    await waitFor(() => reachable('127.0.0.1', this.port, 200), `nats-server on ${this.port}`);
  }

  /** Stops the server process and waits for it to exit. */
  async halt(): Promise<void> {
    const proc = this.#proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    this.#proc = undefined;
  }
}

/** The real write path over a temp SQLite database, with a receiver context on it. */
export interface WritePath {
  storage: Storage;
  manager: StorageManager;
  stats: Stats;
  ctx: ReceiverContext;
  /** A counter of the receiver's scope. */
  count(name: string): number;
  close(): Promise<void>;
}

/**
 * Opens SQLite under `dir` behind a storage manager, a router (with `routes` to sinks) and
 * ingest (scope `receiver:nats`).
 */
export async function openWritePath(
  dir: string,
  logger: Logger = pino({ level: 'silent' }),
  routes: SinkRoute[] = [],
): Promise<WritePath> {
  const storage = (await sqlitePlugin.create(
    { database_path: 'events.db' },
    { name: 'sqlite', logger, configDir: dir },
  )) as Storage;
  await storage.open();
  const stats = new Stats();
  const options = { backend: { type: 'sqlite' }, retention_time: '0', flush_time: '5ms' };
  const manager = new StorageManager(storage, storageManagerOptions(options), { logger, stats });
  await manager.start();
  const router = new Router(manager, routes, stats, logger);
  const scope = 'receiver:nats';
  const ctx: ReceiverContext = {
    ingest: createIngest({ router, storage: manager, stats, logger }, scope),
    logger,
    count: (name, n = 1) => stats.add(scope, name, n),
  };
  const close = async () => {
    await router.close();
    await manager.close();
    await storage.close();
  };
  return { storage, manager, stats, ctx, count: (name) => stats.get(scope, name), close };
}

/** Every event and log of a kind, oldest first. */
export async function readAll(storage: Storage, kind: 'event' | 'log'): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  let after: { time: bigint; id: bigint } | undefined;
  for (;;) {
    const page = await storage.query({ kind, order: 'asc', limit: 10_000, after });
    out.push(...page.records);
    if (!page.next) return out;
    after = page.next;
  }
}

/** What an input must give: records (as {@link comparable}) and the number of refused entries. */
export function expectedFrom(
  input: Buffer,
  cluster?: string,
): { records: string[]; refused: number } {
  // Decoding twice with different "now" values tells lines without a timestamp apart.
  const a = decode(input, { now: 1n });
  const b = decode(input, { now: 2n });
  const records: string[] = [];
  let refused = a.errors.length;
  a.messages.forEach((m, i) => {
    const kind = classifyMessage(m);
    if (kind !== 'event' && kind !== 'log') return;
    const built = buildRecord(m, kind, 0n, cluster);
    if (!built.ok) return void refused++;
    records.push(comparable(built.record, m.time !== b.messages[i]!.time));
  });
  return { records: records.sort(), refused };
}

/**
 * A record as text: every stored property but ids and receive time (the time reads "now"
 * for a record stamped with its receive time).
 */
export function comparable(r: EventRecord, timeIsNow = false): string {
  const tags = Object.fromEntries(
    Object.keys(r.tags)
      .sort()
      .map((k) => [k, r.tags[k]]),
  );
  return JSON.stringify({
    kind: r.kind,
    cluster: r.cluster,
    name: r.name,
    time: timeIsNow ? 'now' : String(r.time),
    tags,
    payload: r.payload,
    extra: r.extra === undefined ? null : extraToJson(r.extra),
    jobId: r.jobId ?? null,
  });
}

/** Stored records as {@link comparable} text, sorted; receive-time stamps read as "now". */
export async function storedComparable(storage: Storage): Promise<string[]> {
  const all = [...(await readAll(storage, 'event')), ...(await readAll(storage, 'log'))];
  return all.map((r) => comparable(r, r.time === r.receivedAt)).sort();
}
