import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import sqlitePlugin from '../../plugins/storage/sqlite/index.ts';
import type { Storage } from '../../core/contracts/storage.ts';
import { natsSkip } from '../helpers/services.ts';
import {
  expectedFrom,
  NATS_URL,
  readAll,
  storedComparable,
  uniqueName,
  waitFor,
} from '../helpers/nats.ts';
import { readSample, sampleNames } from '../helpers/samples.ts';
import { StoreProcess, writeStoreConfig } from '../helpers/store-process.ts';

const skip = await natsSkip();
const dir = mkdtempSync(join(tmpdir(), 'cces-e2e-nats-js-'));
const T0 = 1_735_732_800_000_000_000n;
const stores: StoreProcess[] = [];
const streams: string[] = [];
let nc: NatsConnection;
let jsm: JetStreamManager;

before(async () => {
  if (skip) return;
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
});

after(async () => {
  for (const s of stores) await s.kill();
  for (const s of streams) await jsm.streams.delete(s).catch(() => false);
  await nc?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A JetStream receiver config on a fresh stream. */
function receiverConfig(extra: Record<string, unknown> = {}) {
  const base = uniqueName('ccese2e');
  const stream = base.toUpperCase();
  streams.push(stream);
  const cfg = {
    type: 'nats',
    address: '127.0.0.1',
    port: 4222,
    mode: 'jetstream',
    stream,
    durable: 'store',
    subject: `${base}.>`,
    cluster: 'c1',
    ack_wait: '2s',
    create: { subjects: [`${base}.>`] },
    ...extra,
  };
  return { base, stream, cfg };
}

async function start(config: string): Promise<StoreProcess> {
  const s = await StoreProcess.start(config);
  stores.push(s);
  return s;
}

/** Publishes `n` one-line events to the stream, a few at a time, with pauses between. */
async function publish(subject: string, n: number, perStep = 50, pauseMs = 5): Promise<void> {
  const js = jetstream(nc);
  for (let i = 0; i < n; i += perStep) {
    const acks = [];
    for (let j = i; j < Math.min(n, i + perStep); j++) {
      acks.push(js.publish(subject, `seq,n=${j} event="e${j}" ${T0 + BigInt(j)}\n`));
    }
    await Promise.all(acks);
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/** Waits until the consumer has nothing pending or unacknowledged. */
async function drained(stream: string): Promise<void> {
  await waitFor(
    async () => {
      const ci = await jsm.consumers.info(stream, 'store');
      return ci.num_pending === 0 && ci.num_ack_pending === 0;
    },
    'the consumer to drain',
    40_000,
  );
}

/** Opens the database (after the stores stopped) for a check. */
async function openDb(dbDir: string): Promise<Storage> {
  const storage = (await sqlitePlugin.create(
    { database_path: 'events.db' },
    { name: 'check', logger: pino({ level: 'silent' }), configDir: dbDir },
  )) as Storage;
  await storage.open();
  return storage;
}

/** The `n` tags of the stored `seq` events, sorted numerically. */
async function storedSequence(dbDir: string): Promise<number[]> {
  const storage = await openDb(dbDir);
  try {
    const events = (await readAll(storage, 'event')).filter((e) => e.name === 'seq');
    for (const e of events) assert.equal(e.time, T0 + BigInt(e.tags.n!));
    return events.map((e) => Number(e.tags.n)).sort((a, b) => a - b);
  } finally {
    await storage.close();
  }
}

/** The records of `seq` events 0..n-1 as {@link expectedFrom} gives them. */
function sequenceRecords(n: number, cluster: string): string[] {
  const lines = range(n).map((j) => `seq,n=${j} event="e${j}" ${T0 + BigInt(j)}`);
  return expectedFrom(Buffer.from(lines.join('\n')), cluster).records;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('NATS JetStream mode end to end', { skip }, () => {
  it('stores every message exactly once when the store is killed mid-stream and started again', async () => {
    const { base, stream, cfg } = receiverConfig();
    const home = join(dir, 'kill');
    mkdirSync(home);
    const config = writeStoreConfig(home, { js: cfg });
    const samples = sampleNames().map((name) => readSample(name));
    const n = 3000;

    // The store creates the stream; publishing starts once it runs.
    const first = await start(config);
    const js = jetstream(nc);
    for (const data of samples) await js.publish(`${base}.samples`, data);
    const publishing = publish(`${base}.seq`, n);
    await waitFor(async () => (await storedSequence(home)).length >= n / 4, 'a quarter stored');
    assert.equal(await first.kill(), null);
    const storedBeforeKill = await storedSequence(home);
    assert.ok(storedBeforeKill.length < n, 'killed mid-stream');

    await publishing;
    const second = await start(config);
    await drained(stream);
    const stats = await second.stats();
    assert.equal(await second.stop(), 0);

    assert.deepEqual(await storedSequence(home), range(n));
    const expected = samples.flatMap((data) => expectedFrom(data, 'c1').records);
    const storage = await openDb(home);
    try {
      assert.deepEqual(
        await storedComparable(storage),
        [...expected, ...sequenceRecords(n, 'c1')].sort(),
      );
    } finally {
      await storage.close();
    }
    assert.equal(stats['receiver:js']!.lost_msgs ?? 0, 0);
  });

  it('splits one durable consumer between two store processes on one database, storing each message once', async () => {
    const { base, stream, cfg } = receiverConfig({ batch: 32, concurrency: 32 });
    const home = join(dir, 'shared');
    const dbPath = join(home, 'events.db');
    const storage = { backend: { type: 'sqlite', database_path: dbPath, busy_timeout: '10s' } };
    mkdirSync(home);
    const [a, b] = [
      await start(writeStoreConfig(home, { js: cfg }, storage, 'a.json')),
      await start(writeStoreConfig(home, { js: cfg }, storage, 'b.json')),
    ];
    const n = 4000;

    await publish(`${base}.seq`, n, 100, 2);
    await drained(stream);
    await waitFor(async () => (await a.stats()).database.events === n, `${n} events`);
    const acked = [
      await a.counter('receiver:js', 'acked'),
      await b.counter('receiver:js', 'acked'),
    ];
    assert.equal(await a.stop(), 0);
    assert.equal(await b.stop(), 0);

    assert.ok(acked[0]! > 0 && acked[1]! > 0, `both processes took a share: ${acked.join(', ')}`);
    assert.ok(acked[0]! + acked[1]! >= n);
    assert.deepEqual(await storedSequence(home), range(n));
  });
});
