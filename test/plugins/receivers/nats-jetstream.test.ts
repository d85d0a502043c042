import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import natsReceiverPlugin from '../../../plugins/receivers/nats/index.ts';
import type { NatsReceiverConfig } from '../../../plugins/receivers/nats/schema.ts';
import type { Receiver, ReceiverContext } from '../../../core/contracts/receiver.ts';
import { readSample, sampleNames } from '../../helpers/samples.ts';
import { natsSkip } from '../../helpers/services.ts';
import {
  expectedFrom,
  NATS_URL,
  openWritePath,
  storedComparable,
  uniqueName,
  waitFor,
  type WritePath,
} from '../../helpers/nats.ts';

const skip = await natsSkip();
const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'cces-nats-js-'));
const cleanups: (() => Promise<unknown>)[] = [];
const streams: string[] = [];
let nc: NatsConnection;
let jsm: JetStreamManager;
let dbs = 0;

before(async () => {
  if (skip) return;
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const s of streams) await jsm.streams.delete(s).catch(() => false);
  await nc?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function receiver(cfg: NatsReceiverConfig): Promise<Receiver> {
  const r = await natsReceiverPlugin.create(cfg, { name: 'nats', logger, configDir: dir });
  cleanups.push(() => r.stop());
  return r;
}

async function writePath(): Promise<WritePath> {
  const wp = await openWritePath(join(dir, `db${++dbs}`), logger);
  cleanups.push(() => wp.close());
  return wp;
}

/** A JetStream receiver config on a fresh stream whose subjects are `<base>.>`. */
function jsConfig(extra: Partial<NatsReceiverConfig> = {}): NatsReceiverConfig & { base: string } {
  const base = uniqueName('ccesjs');
  const stream = base.toUpperCase();
  streams.push(stream);
  return {
    base,
    mode: 'jetstream',
    stream,
    durable: 'store',
    subject: `${base}.>`,
    create: { subjects: [`${base}.>`], storage: 'memory' },
    ...extra,
  };
}

const ingestError = (code: string) =>
  Object.assign(new Error(code), { code, details: { retryAfterSeconds: 0.05 } });

describe('nats receiver, JetStream mode', { skip }, () => {
  it('creates stream and consumer, stores every sample exactly and acks every message', async () => {
    const wp = await writePath();
    const { base, ...cfg } = jsConfig({ cluster: 'fallback' });
    const r = await receiver(cfg);
    await r.start(wp.ctx);

    const js = jetstream(nc);
    const all = sampleNames().map((n) => readSample(n));
    for (const data of all) await js.publish(`${base}.samples`, data);
    await waitFor(() => wp.count('acked') === all.length, 'every message acked');
    await r.stop();

    const expected = all.map((d) => expectedFrom(d, 'fallback'));
    assert.deepEqual(await storedComparable(wp.storage), expected.flatMap((e) => e.records).sort());
    const info = await jsm.consumers.info(cfg.stream!, 'store');
    assert.equal(info.num_pending, 0);
    assert.equal(info.num_ack_pending, 0);
    assert.equal(info.config.ack_policy, 'explicit');
    assert.deepEqual(info.config.filter_subjects ?? [info.config.filter_subject], [`${base}.>`]);
  });

  it('naks on a storage failure and stores the redelivery once', async () => {
    const wp = await writePath();
    const { base, ...cfg } = jsConfig({ cluster: 'c1', nak_delay: '50ms' });
    let failures = 1;
    const ctx: ReceiverContext = {
      ...wp.ctx,
      ingest: (input, opts) =>
        failures-- > 0
          ? Promise.reject(ingestError('CCES_ERR_STORAGE_WRITE'))
          : wp.ctx.ingest(input, opts),
    };
    const r = await receiver(cfg);
    await r.start(ctx);

    await jetstream(nc).publish(`${base}.x`, 'job event="once" 1735732800000000000\n');
    await waitFor(() => wp.count('acked') === 1, 'acked after redelivery');
    await r.stop();
    assert.deepEqual([wp.count('naked'), wp.count('redelivered'), wp.count('stored')], [1, 1, 1]);
  });

  it('hands back messages past max_pending_bytes and stores them on redelivery', async () => {
    const wp = await writePath();
    const { base, ...cfg } = jsConfig({ cluster: 'c1', concurrency: 1, max_pending_bytes: 1024 });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let calls = 0;
    const ctx: ReceiverContext = {
      ...wp.ctx,
      ingest: async (input, opts) => {
        if (calls++ === 0) await gate;
        return wp.ctx.ingest(input, opts);
      },
    };
    // Five messages of 400 bytes: the first is held in ingest, two wait (800 bytes), and
    // the last two would pass 1024 bytes.
    await jsm.streams.add({
      name: cfg.stream!,
      subjects: [`${base}.>`],
      storage: 'memory' as never,
    });
    const js = jetstream(nc);
    const lines = [1, 2, 3, 4, 5].map(
      (i) => `job event="${String(i).repeat(360)}" 173573280000000000${i}\n`,
    );
    for (const line of lines) await js.publish(`${base}.x`, line);
    const r = await receiver(cfg);
    await r.start(ctx);
    await waitFor(() => wp.count('queue_full') === 2, 'two handed back');
    open();
    await waitFor(() => wp.count('acked') === 5, 'every message acked');
    await r.stop();
    const counts = ['queue_full', 'naked', 'redelivered', 'acked', 'stored', 'duplicates'];
    assert.deepEqual(
      counts.map((c) => wp.count(c)),
      [2, 2, 2, 5, 5, 0],
    );
  });

  it('stores content published twice once, counting the second as a duplicate', async () => {
    const wp = await writePath();
    const { base, ...cfg } = jsConfig({ cluster: 'c1' });
    const r = await receiver(cfg);
    await r.start(wp.ctx);
    const js = jetstream(nc);
    const line = 'job event="same" 1735732800000000000\n';
    await js.publish(`${base}.a`, line);
    await js.publish(`${base}.b`, line);
    await waitFor(() => wp.count('acked') === 2, 'two acked');
    await r.stop();
    assert.deepEqual([wp.count('stored'), wp.count('duplicates')], [1, 1]);
  });

  it('keeps a slow message from being redelivered by reporting progress', async () => {
    const wp = await writePath();
    const { base, ...cfg } = jsConfig({ cluster: 'c1', ack_wait: '600ms' });
    const ctx: ReceiverContext = {
      ...wp.ctx,
      ingest: async (input, opts) => {
        await new Promise((r) => setTimeout(r, 1500));
        return wp.ctx.ingest(input, opts);
      },
    };
    const r = await receiver(cfg);
    await r.start(ctx);
    await jetstream(nc).publish(`${base}.slow`, 'job event="slow" 1735732800000000000\n');
    await waitFor(() => wp.count('acked') === 1, 'acked');
    await r.stop();
    assert.deepEqual([wp.count('received_msgs'), wp.count('redelivered')], [1, 0]);
  });

  it('splits one durable consumer between two receivers, storing each message once', async () => {
    const wp = await writePath();
    const { base, ...cfg } = jsConfig({ cluster: 'c1', batch: 16 });
    const counts = [new Map<string, number>(), new Map<string, number>()];
    const ctxs = counts.map((m): ReceiverContext => ({
      ...wp.ctx,
      count: (name, n = 1) => {
        m.set(name, (m.get(name) ?? 0) + n);
        wp.ctx.count(name, n);
      },
    }));
    const [a, b] = [await receiver(cfg), await receiver(cfg)];
    await a.start(ctxs[0]!);
    await b.start(ctxs[1]!);

    const js = jetstream(nc);
    const n = 400;
    const acks = [];
    for (let i = 0; i < n; i++)
      acks.push(js.publish(`${base}.m`, `job event="e${i}" ${1735732800000000000n + BigInt(i)}\n`));
    await Promise.all(acks);
    await waitFor(() => wp.count('acked') === n, `${n} acked`);
    await Promise.all([a.stop(), b.stop()]);

    assert.equal(wp.count('stored'), n);
    assert.equal(wp.count('duplicates'), 0);
    assert.equal((await wp.storage.stats()).events, n);
    for (const m of counts) assert.ok((m.get('acked') ?? 0) > 0, 'both receivers took a share');
  });

  it('fails start with CCES_ERR_NATS_JETSTREAM when the consumer does not exist', async () => {
    const wp = await writePath();
    const { base: _b, create: _c, ...cfg } = jsConfig();
    const r = await receiver(cfg);
    await assert.rejects(r.start(wp.ctx), { code: 'CCES_ERR_NATS_JETSTREAM' });
  });
});
