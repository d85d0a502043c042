/**
 * Long-form JetStream overload: `node --import tsx scripts/hardening/overload-jetstream.ts
 * [--seconds 60] [--publishers 2] [--lines 100] [--store-heap-mb N]`. Publishers put far
 * more into a stream than the store's storage takes (SQLite with `synchronous: FULL` and
 * batches of 20 stands in for a slow disk). Every second it samples what was published, what
 * the consumer delivered, what the store stored and the store's RSS, V8 heap in use and
 * memory outside the heap (from its /metrics), to show that delivery follows storage, not the
 * publishers. Then the store is stopped, started again with the default storage settings,
 * drains the backlog, and every event the stream acknowledged to a publisher must be stored
 * exactly once. `--store-heap-mb` caps the store's V8 heap.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { peakRssMiB, storedIds } from '../../test/hardening/crash.ts';
import {
  heapCapEnv,
  jetstreamReceiver,
  writeHardenedConfig,
} from '../../test/hardening/harness.ts';
import { rssMiB } from '../../test/hardening/overload.ts';
import { StoreProcess } from '../../test/helpers/store-process.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    publishers: { type: 'string', default: '2' },
    lines: { type: 'string', default: '100' },
    'store-heap-mb': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const linesPerMsg = Number(values.lines);
const out = (line: string) => process.stdout.write(`${line}\n`);

const tag = `ccover${Date.now().toString(36)}`;
const stream = tag.toUpperCase();
const receivers = jetstreamReceiver(tag);
// The minute of overload runs on a slow storage; the drain after it on the default settings,
// on the same database in the same folder.
const slow = writeHardenedConfig({
  backend: 'sqlite',
  receivers,
  storage: { batch_size: 20 },
  backendExtra: { synchronous: 'FULL' },
});

const nc = await connect({ servers: '127.0.0.1:4222' });
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);

const storeEnv = heapCapEnv(values['store-heap-mb']);
let store = await StoreProcess.start(slow.configPath, storeEnv);
out(
  `jetstream overload: ${seconds} s, ${values.publishers} publishers, ${linesPerMsg} events a ` +
    'message; storage: SQLite synchronous=FULL, batch_size 20' +
    (values['store-heap-mb'] ? `; store heap cap ${values['store-heap-mb']} MiB` : ''),
);

const acked: string[] = [];
let published = 0;
let publishFailures = 0;
let clock = BigInt(Date.now()) * 1_000_000n;
const end = Date.now() + seconds * 1000;
const publisher = async (p: number) => {
  for (let seq = 0; Date.now() < end; seq++) {
    const ids = Array.from({ length: linesPerMsg }, (_, i) => `j-p${p}-s${seq}-${i}`);
    const body = ids
      .map((id) => `crash,cluster=crash,hostname=h${p} event="{\\"id\\":\\"${id}\\"}" ${clock++}`)
      .join('\n');
    try {
      await js.publish(`${tag}.events`, body);
      acked.push(...ids);
      published++;
    } catch {
      // Not acknowledged by the stream: the publisher would retry; nothing is owed for it.
      publishFailures++;
    }
  }
};

interface Sample {
  t: number;
  publishedEvents: number;
  deliveredMsgs: number;
  stored: number;
  ackPending: number;
  pending: number;
  rss: number;
  heap: number;
  external: number;
}

/** V8 heap in use and memory outside it (buffers, array buffers), MiB, from /metrics. */
async function memoryMiB(api: string): Promise<{ heap: number; external: number }> {
  const text = await (await fetch(`${api}/metrics`)).text();
  const value = (name: string) => {
    const m = new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(text);
    return m ? Number(m[1]) / 2 ** 20 : NaN;
  };
  return {
    heap: value('nodejs_heap_size_used_bytes'),
    external: value('nodejs_external_memory_bytes'),
  };
}
const samples: Sample[] = [];
const sample = async (t: number) => {
  const ci = await jsm.consumers.info(stream, 'store');
  const stats = await store.stats();
  samples.push({
    t,
    publishedEvents: acked.length,
    deliveredMsgs: ci.delivered.stream_seq,
    stored: stats['receiver:js']?.stored ?? 0,
    ackPending: ci.num_ack_pending,
    pending: ci.num_pending,
    rss: rssMiB(store.proc.pid),
    ...(await memoryMiB(store.api)),
  });
};

const publishing = Promise.all(
  Array.from({ length: Number(values.publishers) }, (_, p) => publisher(p)),
);
const started = Date.now();
for (let s = 1; s <= seconds; s++) {
  await new Promise((r) => setTimeout(r, started + s * 1000 - Date.now()));
  try {
    await sample(s);
  } catch (err) {
    // The store is gone: say how it ended rather than only that its API stopped answering.
    const { exitCode, signalCode } = store.proc;
    const why = (err as Error).message;
    out(`second ${s}: sampling failed (${why}); store exit ${exitCode} ${signalCode}`);
    out(`the store's last output:\n${store.logs.slice(-30).join('\n')}`);
    // Leave nothing behind: a store still running, or the stream of this run.
    if (store.proc.exitCode === null) await store.kill();
    await jsm.streams.delete(stream).catch(() => false);
    process.exit(1);
  }
}
await publishing;

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
out(
  'second  published ev/s  delivered msg/s (ev/s)  stored ev/s' +
    '  ack pending  backlog msgs  RSS MiB  heap  external',
);
for (let i = 0; i < samples.length; i++) {
  const s = samples[i]!;
  const prev = samples[i - 1] ?? {
    t: 0,
    publishedEvents: 0,
    deliveredMsgs: 0,
    stored: 0,
  };
  const dt = s.t - prev.t;
  if (s.t % 5 !== 0 && s.t !== 1) continue;
  const dMsgs = (s.deliveredMsgs - prev.deliveredMsgs) / dt;
  out(
    `${String(s.t).padStart(6)}  ${fmt((s.publishedEvents - prev.publishedEvents) / dt).padStart(16)}` +
      `  ${fmt(dMsgs).padStart(13)} (${fmt(dMsgs * linesPerMsg)})` +
      `  ${fmt((s.stored - prev.stored) / dt).padStart(11)}  ${String(s.ackPending).padStart(11)}` +
      `  ${fmt(s.pending).padStart(12)}  ${s.rss.toFixed(0).padStart(7)}` +
      `  ${s.heap.toFixed(0).padStart(4)}  ${s.external.toFixed(0).padStart(8)}`,
  );
}
const last = samples[samples.length - 1]!;
const storedDuring = last.stored;
const peakRss = Math.max(peakRssMiB(store.proc.pid), ...samples.map((s) => s.rss));
out(
  `published and acknowledged by the stream: ${fmt(acked.length)} events in ${fmt(published)} ` +
    `messages (${publishFailures} publishes failed); stored while publishing: ` +
    `${fmt(storedDuring)}; offered/stored ${(acked.length / Math.max(storedDuring, 1)).toFixed(1)}x`,
);
out(
  `max ack pending ${Math.max(...samples.map((s) => s.ackPending))}, ` +
    `receiver naks ${(await store.stats())['receiver:js']?.naked ?? 0}, ` +
    `peak RSS of the store ${peakRss.toFixed(0)} MiB`,
);

// Drain: a clean stop, then the default (faster) storage settings on the same database.
await store.stop();
const fast = writeHardenedConfig({ backend: 'sqlite', receivers }, slow.dir);
store = await StoreProcess.start(fast.configPath, storeEnv);
const drainStart = Date.now();
for (;;) {
  const ci = await jsm.consumers.info(stream, 'store');
  if (ci.num_pending === 0 && ci.num_ack_pending === 0) break;
  await new Promise((r) => setTimeout(r, 1000));
}
out(`backlog drained after a restart in ${((Date.now() - drainStart) / 1000).toFixed(1)} s`);

const seen = await storedIds(store);
const lost = acked.filter((id) => !seen.has(id)).length;
const duplicated = [...seen.values()].filter((n) => n > 1).length;
out(`stored ${fmt(seen.size)}, lost ${lost}, duplicated ${duplicated}`);

await store.stop();
await jsm.streams.delete(stream).catch(() => false);
await nc.close();
rmSync(slow.dir, { recursive: true, force: true });
process.exit(lost === 0 && duplicated === 0 ? 0 : 1);
