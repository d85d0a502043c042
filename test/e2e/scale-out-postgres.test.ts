/**
 * Scale-out: two store processes share one JetStream durable consumer and one Postgres
 * database. One is killed mid-stream and started again; every message is stored exactly
 * once, both processes took a share, and both answer the same query with the same text.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { Storage } from '../../core/contracts/storage.ts';
import plugin from '../../plugins/storage/postgres/index.ts';
import { expectedFrom, NATS_URL, storedComparable, uniqueName, waitFor } from '../helpers/nats.ts';
import { createTestDatabase, SHARED, type TestDatabase } from '../helpers/postgres.ts';
import { readSample, sampleNames } from '../helpers/samples.ts';
import { natsSkip, postgresSkip } from '../helpers/services.ts';
import { StoreProcess, writeStoreConfig } from '../helpers/store-process.ts';

const skip = (await natsSkip()) || (await postgresSkip());
const dir = mkdtempSync(join(tmpdir(), 'cces-e2e-scale-out-'));
const N = 4000;
// An hour ago: inside the daily partitions the store creates ahead, not the default one.
const T0 = BigInt(Date.now() - 3_600_000) * 1_000_000n;
const base = uniqueName('ccesscale');
const stream = base.toUpperCase();
const durable = uniqueName('store');
const stores: StoreProcess[] = [];
let nc: NatsConnection;
let jsm: JetStreamManager;
let db: TestDatabase;

before(async () => {
  if (skip) return;
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
  db = await createTestDatabase('scaleout');
});

after(async () => {
  for (const s of stores) await s.kill();
  await jsm?.consumers.delete(stream, durable).catch(() => false);
  await jsm?.streams.delete(stream).catch(() => false);
  await nc?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** A central config for one store process; both use the same receiver and database. */
function storeConfig(file: string): string {
  const receiver = {
    type: 'nats',
    address: '127.0.0.1',
    port: 4222,
    mode: 'jetstream',
    stream,
    durable,
    subject: `${base}.>`,
    cluster: 'c1',
    ack_wait: '2s',
    batch: 32,
    concurrency: 8,
    create: { subjects: [`${base}.>`] },
  };
  const backend = {
    type: 'postgres',
    server: SHARED.host,
    port: SHARED.port,
    username: SHARED.user,
    database_path: db.name,
  };
  return writeStoreConfig(dir, { js: receiver }, { backend }, file);
}

async function start(config: string): Promise<StoreProcess> {
  const s = await StoreProcess.start(config);
  stores.push(s);
  return s;
}

/** The `n` tags of the stored `seq` events, ascending; checks each one's time. */
async function storedSequence(): Promise<number[]> {
  const res = await db.exec(
    `SELECT (tags->>'n')::int AS n, time::text AS time FROM events WHERE name = 'seq' ORDER BY 1`,
  );
  for (const row of res.rows) assert.equal(BigInt(row.time), T0 + BigInt(row.n));
  return res.rows.map((row) => row.n as number);
}

async function storedCount(): Promise<number> {
  const res = await db.exec(`SELECT count(*)::int AS n FROM events WHERE name = 'seq'`);
  return res.rows[0].n as number;
}

/** Waits until the consumer has nothing pending or unacknowledged. */
async function drained(): Promise<void> {
  await waitFor(
    async () => {
      const ci = await jsm.consumers.info(stream, durable);
      return ci.num_pending === 0 && ci.num_ack_pending === 0;
    },
    'the consumer to drain',
    40_000,
  );
}

/**
 * Publishes `seq` events 0..N-1 in small paced steps; holds back the last quarter until
 * `gate` resolves. Reports progress in `progress.published`.
 */
async function publishSequence(gate: Promise<void>, progress: { published: number }) {
  const js = jetstream(nc);
  for (let i = 0; i < N; i += 40) {
    if (i >= (3 * N) / 4) await gate;
    const acks = [];
    for (let j = i; j < Math.min(N, i + 40); j++) {
      acks.push(js.publish(`${base}.seq`, `seq,n=${j} event="e${j}" ${T0 + BigInt(j)}\n`));
    }
    await Promise.all(acks);
    progress.published = Math.min(N, i + 40);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every page of `path` (a records route) from one process, as the text it answered. */
async function pages(store: StoreProcess, path: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  do {
    const url = `${store.api}${path}&limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const text = await res.text();
    out.push(text);
    cursor = (JSON.parse(text) as { next_cursor: string | null }).next_cursor;
  } while (cursor !== null);
  return out;
}

async function openStorage(): Promise<Storage> {
  const config = {
    server: SHARED.host,
    port: SHARED.port,
    username: SHARED.user,
    database_path: db.name,
  };
  const ctx = { name: 'check', logger: pino({ level: 'silent' }), configDir: dir };
  const storage = (await plugin.create(config, ctx)) as Storage;
  await storage.open();
  return storage;
}

/**
 * Each `seq` event once at its time, and every stored record (`seq` and samples) exactly
 * as decoding the published input gives it, none twice.
 */
async function assertStoredOnce(samples: Buffer[]): Promise<void> {
  assert.deepEqual(await storedSequence(), range(N));
  const expected = samples.flatMap((data) => expectedFrom(data, 'c1').records);
  const sequence = range(N).map((j) => `seq,n=${j} event="e${j}" ${T0 + BigInt(j)}`);
  expected.push(...expectedFrom(Buffer.from(sequence.join('\n')), 'c1').records);
  const rows = await db.exec(
    'SELECT (SELECT count(*) FROM events)::int + (SELECT count(*) FROM logs)::int AS n',
  );
  assert.equal(rows.rows[0].n, expected.length);

  const storage = await openStorage();
  try {
    assert.deepEqual(await storedComparable(storage), expected.sort());
  } finally {
    await storage.close();
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('two store processes on one durable consumer and one Postgres', { skip }, () => {
  it('stores each message once through kill -9 and restart; both answer alike', async (t) => {
    const [configA, configB] = [storeConfig('a.json'), storeConfig('b.json')];
    const a1 = await start(configA);
    const b = await start(configB);

    // Samples hold lines without a timestamp, stamped when received: a redelivery of such
    // a message is a new record. So they are all acked before the kill.
    const samples = sampleNames().map((name) => readSample(name));
    const js = jetstream(nc);
    for (const data of samples) await js.publish(`${base}.samples`, data);
    await drained();

    let restarted!: () => void;
    const gate = new Promise<void>((r) => (restarted = r));
    const progress = { published: 0 };
    const publishing = publishSequence(gate, progress);
    await waitFor(
      async () =>
        (await storedCount()) >= N / 4 &&
        (await a1.counter('receiver:js', 'acked')) > 0 &&
        (await b.counter('receiver:js', 'acked')) > 0,
      'a quarter stored by both',
    );
    const ackedByA1 = await a1.counter('receiver:js', 'acked');
    assert.equal(await a1.kill(), null);
    assert.ok(progress.published < N, `killed mid-stream (${progress.published} published)`);
    assert.ok((await storedCount()) < N);

    const a2 = await start(configA);
    restarted();
    await publishing;
    await drained();
    const [statsA2, statsB] = [await a2.stats(), await b.stats()];

    await assertStoredOnce(samples);

    // Any process answers queries, and both give the same answer.
    for (const path of ['/api/v1/events?order=asc', '/api/v1/logs?order=asc']) {
      assert.deepEqual(await pages(a2, path), await pages(b, path));
    }
    const seqPages = await pages(b, '/api/v1/events?name=seq&order=asc');
    const items = seqPages.flatMap((text) => (JSON.parse(text) as { items: unknown[] }).items);
    assert.equal(items.length, N);
    assert.deepEqual(statsA2.database, statsB.database);

    // Both took a share, before the kill and after the restart. (a1's count is read before
    // the kill and so is a lower bound: no sum is checked.)
    const ackedByA2 = statsA2['receiver:js']!.acked ?? 0;
    const ackedByB = statsB['receiver:js']!.acked ?? 0;
    const shares = `a1 ${ackedByA1}, a2 ${ackedByA2}, b ${ackedByB}`;
    assert.ok(ackedByA1 > 0 && ackedByA2 > 0 && ackedByB > 0, `every process acked: ${shares}`);
    const redelivered = [statsA2, statsB].map((s) => s['receiver:js']!.redelivered ?? 0);
    const duplicates = [statsA2, statsB].map((s) => s['receiver:js']!.duplicates ?? 0);
    t.diagnostic(
      `acked: ${shares}; redelivered (a2, b): ${redelivered}; duplicates: ${duplicates}`,
    );
    for (const s of [statsA2, statsB]) assert.equal(s['receiver:js']!.lost_msgs ?? 0, 0);
    assert.equal(await a2.stop(), 0);
    assert.equal(await b.stop(), 0);
  });
});
