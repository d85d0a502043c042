/**
 * NATS ingest: events/s from NATS into SQLite (committed) in core and JetStream modes, beside
 * the raw publish-to-subscribe rate of the same messages and the HTTP ingest rate of the same
 * lines, all in one run. Messages carry one line each (as producers publish events) or 100
 * lines each (as batching producers and cc-event-client --send-file do). Besides wall-clock
 * rates it prints events per CPU-second of this process (store and its clients), which a
 * busy machine disturbs less.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Receiver, ReceiverContext } from '../../core/contracts/receiver.ts';
import type { Storage } from '../../core/contracts/storage.ts';
import { createIngest } from '../../core/ingest.ts';
import { Router } from '../../core/router.ts';
import { Stats } from '../../core/stats.ts';
import { StorageManager, storageManagerOptions } from '../../core/storage-manager.ts';
import httpReceiverPlugin from '../../plugins/receivers/http/index.ts';
import natsReceiverPlugin from '../../plugins/receivers/nats/index.ts';
import sqlitePlugin from '../../plugins/storage/sqlite/index.ts';
import { typicalLine } from './decode.ts';

const NATS = '127.0.0.1:4222';
const LINES = 100_000;
const logger = pino({ level: 'silent' });

/** Wall and CPU time of one measured step, ms; `serverCpuMs` of a local nats-server. */
interface Timing {
  ms: number;
  cpuMs: number;
  serverCpuMs?: number;
}

/** Starts a clock; calling the result stops it. */
function clock(): () => Timing {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const s0 = natsServerCpuMs();
  return () => {
    const c = process.cpuUsage(c0);
    const s1 = natsServerCpuMs();
    const server = s0 !== undefined && s1 !== undefined ? s1 - s0 : undefined;
    return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, serverCpuMs: server };
  };
}

/**
 * CPU time used so far by a nats-server running on this machine (Linux /proc), ms; the
 * server shares the machine's cores with the store, so its cost per message counts too.
 */
function natsServerCpuMs(): number | undefined {
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let comm: string;
      try {
        comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      } catch {
        continue;
      }
      if (comm !== 'nats-server') continue;
      // Fields 14 and 15 (utime, stime) in clock ticks, after the parenthesised name.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    }
  } catch {
    // Not Linux, or /proc not readable: the figure is left out.
  }
  return undefined;
}

interface Path {
  ctx: ReceiverContext;
  count(name: string): number;
  close(): Promise<void>;
}

/** The real write path over a fresh SQLite database. */
async function writePath(dir: string, name: string): Promise<Path> {
  const storage = (await sqlitePlugin.create(
    { database_path: `${name}.db` },
    { name: 'sqlite', logger, configDir: dir },
  )) as Storage;
  await storage.open();
  const stats = new Stats();
  const opts = { backend: { type: 'sqlite' }, retention_time: '0', batch_size: 1000 };
  const manager = new StorageManager(storage, storageManagerOptions(opts), { logger, stats });
  await manager.start();
  const router = new Router(manager, [], stats, logger);
  const scope = 'receiver:bench';
  const ctx: ReceiverContext = {
    ingest: createIngest({ router, storage: manager, stats, logger }, scope),
    logger,
    count: (n, k = 1) => stats.add(scope, n, k),
  };
  const close = async () => {
    await router.close();
    await manager.close();
    await storage.close();
  };
  return { ctx, count: (n) => stats.get(scope, n), close };
}

/** Resolves once `cond` holds, checking every 2 ms. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}

/** Lines grouped `per` to a message. */
function messages(lines: string[], per: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < lines.length; i += per) {
    out.push(Buffer.from(`${lines.slice(i, i + per).join('\n')}\n`));
  }
  return out;
}

/** Publishes in slices, flushing between them so the client's buffer stays small. */
async function publishAll(nc: NatsConnection, subject: string, msgs: Buffer[]): Promise<void> {
  for (let i = 0; i < msgs.length; i++) {
    nc.publish(subject, msgs[i]!);
    if (i % 1000 === 999) await nc.flush();
  }
  await nc.flush();
}

async function rawPubSub(msgs: Buffer[]): Promise<Timing> {
  const [pub, sub] = [await connect({ servers: NATS }), await connect({ servers: NATS })];
  const subject = `bench.raw.${process.pid}`;
  let got = 0;
  sub.subscribe(subject, { callback: () => void got++ });
  await sub.flush();
  const stop = clock();
  await publishAll(pub, subject, msgs);
  await until(() => got === msgs.length);
  const t = stop();
  await Promise.all([pub.close(), sub.close()]);
  return t;
}

async function httpIngest(dir: string, lines: string[]): Promise<Timing> {
  const path = await writePath(dir, 'http');
  const cfg = { address: '127.0.0.1', port: 0 };
  const r = await httpReceiverPlugin.create(cfg, { name: 'http', logger, configDir: dir });
  await r.start(path.ctx);
  const url = `http://127.0.0.1:${(r as unknown as { port: number }).port}/write`;
  const bodies = messages(lines, 1000);
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const res = await fetch(url, { method: 'POST', body: bodies[next++]! });
      if (res.status !== 204) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    }
  };
  const stop = clock();
  await Promise.all([worker(), worker(), worker(), worker()]);
  const t = stop();
  const stored = path.count('stored');
  await r.stop();
  await path.close();
  if (stored !== lines.length) throw new Error(`http stored ${stored} of ${lines.length}`);
  return t;
}

async function coreIngest(dir: string, msgs: Buffer[], tag: string): Promise<Timing> {
  const path = await writePath(dir, `core-${tag}`);
  const subject = `bench.core.${process.pid}.${tag}`;
  // The publisher here outruns the store at first; a backlog large enough keeps every message.
  const cfg = { address: '127.0.0.1', subject, cluster: 'bench', max_pending: msgs.length };
  const r = await natsReceiverPlugin.create(
    { ...cfg, max_pending_bytes: 1 << 30 },
    { name: 'core', logger, configDir: dir },
  );
  await r.start(path.ctx);
  const pub = await connect({ servers: NATS });
  const stop = clock();
  await publishAll(pub, subject, msgs);
  await until(() => path.count('stored') === LINES);
  const t = stop();
  const drops = path.count('slow_consumer_drops');
  await pub.close();
  await r.stop();
  await path.close();
  if (drops > 0) throw new Error(`core mode dropped ${drops} messages`);
  return t;
}

interface JetStreamTimings {
  fill: Timing;
  rawConsume: Timing;
  ingest: Timing;
}

async function jetStreamIngest(
  dir: string,
  msgs: Buffer[],
  tag: string,
): Promise<JetStreamTimings> {
  const stream = `BENCH_${process.pid}_${tag}`;
  const subject = `bench.js.${process.pid}.${tag}`;
  const nc = await connect({ servers: NATS });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [subject] });
  try {
    const js = jetstream(nc);
    const stopFill = clock();
    for (let i = 0; i < msgs.length; i += 500) {
      await Promise.all(msgs.slice(i, i + 500).map((m) => js.publish(subject, m)));
    }
    const fill = stopFill();
    const rawConsume = await consumeAndAck(nc, stream, msgs.length);

    const path = await writePath(dir, `js-${tag}`);
    const cfg = { address: '127.0.0.1', mode: 'jetstream' as const, stream, durable: 'bench' };
    const r: Receiver = await natsReceiverPlugin.create(
      { ...cfg, subject, cluster: 'bench', create: {} },
      { name: 'js', logger, configDir: dir },
    );
    const stop = clock();
    await r.start(path.ctx);
    await until(() => path.count('acked') === msgs.length);
    const ingest = stop();
    const stored = path.count('stored');
    await r.stop();
    await path.close();
    if (stored !== LINES) throw new Error(`jetstream stored ${stored} of ${LINES}`);
    return { fill, rawConsume, ingest };
  } finally {
    await jsm.streams.delete(stream);
    await nc.close();
  }
}

/**
 * Reads the filled stream with a plain durable pull consumer, acking each message, in
 * callback mode as the receiver does (the async iterator costs about twice the CPU).
 */
async function consumeAndAck(nc: NatsConnection, stream: string, n: number): Promise<Timing> {
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(stream, { durable_name: 'raw', ack_policy: AckPolicy.Explicit });
  const consumer = await jetstream(nc).consumers.get(stream, 'raw');
  const stop = clock();
  let got = 0;
  let all!: () => void;
  const done = new Promise<void>((resolve) => (all = resolve));
  const messages = await consumer.consume({
    max_messages: 512,
    callback: (m) => {
      m.ack();
      if (++got === n) all();
    },
  });
  await done;
  await nc.flush();
  const t = stop();
  await messages.close();
  await jsm.consumers.delete(stream, 'raw');
  return t;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const perSec = (n: number, ms: number) => (n / ms) * 1000;

/** "N events/s (M per CPU-s)" for `n` items in timing `t`. */
function rates(n: number, t: Timing, unit = 'events'): string {
  return `${fmt(perSec(n, t.ms))} ${unit}/s (${fmt(perSec(n, t.cpuMs))} per CPU-s)`;
}

/** CPU µs per message of this process and, where measured, of the local nats-server. */
function cpuPerMsg(msgs: number, t: Timing): string {
  const own = `${((t.cpuMs * 1000) / msgs).toFixed(1)} µs CPU/msg here`;
  if (t.serverCpuMs === undefined) return own;
  return `${own}, ${((t.serverCpuMs * 1000) / msgs).toFixed(1)} in nats-server`;
}

/** Runs the benchmark and reports events/s and ratios. */
export default async function bench(report: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cces-bench-nats-'));
  try {
    const lines = Array.from({ length: LINES }, (_, i) => typicalLine(i));
    const http = await httpIngest(dir, lines);
    const httpRate = perSec(LINES, http.ms);
    const httpCpu = perSec(LINES, http.cpuMs);
    report(`HTTP ingest, 1000 lines a POST, 4 clients: ${rates(LINES, http)}`);
    report(`  ${((http.cpuMs * 1000) / LINES).toFixed(1)} µs CPU/event here, clients included`);
    for (const per of [1, 100]) {
      const msgs = messages(lines, per);
      const raw = await rawPubSub(msgs);
      const core = await coreIngest(dir, msgs, `p${per}`);
      const js = await jetStreamIngest(dir, msgs, `p${per}`);
      const ratio = (t: Timing) =>
        `${pct(perSec(LINES, t.ms), httpRate)} of HTTP ` +
        `(${pct(perSec(LINES, t.cpuMs), httpCpu)} per CPU-s)`;
      report(`${per} line(s) a message, ${fmt(msgs.length)} messages:`);
      report(`  raw NATS publish->subscribe: ${rates(msgs.length, raw, 'msgs')}`);
      report(`  core mode NATS->SQLite:      ${rates(LINES, core)} = ${ratio(core)}`);
      report(`    ${cpuPerMsg(msgs.length, core)}`);
      report(`  JetStream NATS->SQLite:      ${rates(LINES, js.ingest)} = ${ratio(js.ingest)}`);
      report(`    ${cpuPerMsg(msgs.length, js.ingest)}`);
      report(`  JetStream raw consume+ack:   ${rates(msgs.length, js.rawConsume, 'msgs')}`);
      report(`    ${cpuPerMsg(msgs.length, js.rawConsume)}`);
      report(`  JetStream publish (fill):    ${rates(msgs.length, js.fill, 'msgs')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function pct(a: number, b: number): string {
  return `${Math.round((a / b) * 100)}%`;
}
