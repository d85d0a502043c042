import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import natsSinkPlugin from '../../../plugins/sinks/nats/index.ts';
import type { NatsSink } from '../../../plugins/sinks/nats/sink.ts';
import type { NatsSinkConfig } from '../../../plugins/sinks/nats/schema.ts';
import { compileSubject } from '../../../plugins/sinks/nats/subject-template.ts';
import { decode } from '../../../core/lineproto/index.ts';
import { buildRecord, type EventRecord } from '../../../core/record.ts';
import { readSample, sampleNames } from '../../helpers/samples.ts';
import { natsSkip } from '../../helpers/services.ts';
import {
  comparable,
  NATS_URL,
  openWritePath,
  PrivateNatsServer,
  readAll,
  uniqueName,
  waitFor,
} from '../../helpers/nats.ts';

const skip = await natsSkip();
const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'cces-nats-sink-'));
const cleanups: (() => Promise<unknown>)[] = [];
let nc: NatsConnection;

before(async () => {
  if (!skip) nc = await connect({ servers: NATS_URL });
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await nc?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function sink(cfg: NatsSinkConfig): Promise<NatsSink> {
  const s = (await natsSinkPlugin.create(cfg, {
    name: 'republish',
    logger,
    configDir: dir,
  })) as NatsSink;
  cleanups.push(() => s.close());
  return s;
}

/** Collects every message on `subject` (wildcards allowed). */
function collect(conn: NatsConnection, subject: string): Msg[] {
  const got: Msg[] = [];
  conn.subscribe(subject, { callback: (_err, m) => void got.push(m) });
  return got;
}

const lineCount = (msgs: Msg[]) =>
  msgs.reduce((n, m) => n + decode(Buffer.from(m.data)).messages.length, 0);

function event(i: number): EventRecord {
  const built = buildRecord(
    {
      name: 'job',
      tags: { cluster: 'c1', hostname: `node${i}` },
      fields: { event: `e${i}` },
      time: BigInt(i),
    },
    'event',
    0n,
  );
  assert.ok(built.ok);
  return built.record;
}

describe('compileSubject', () => {
  it('fills cluster and name as single subject tokens', () => {
    const subject = compileSubject('events.{cluster}.{name}');
    assert.equal(subject('testcluster', 'job'), 'events.testcluster.job');
    assert.equal(subject('a.b', 'x y*>'), 'events.a_b.x_y__');
    assert.equal(subject('', 'job'), 'events._.job');
    assert.equal(compileSubject('fixed')('c', 'n'), 'fixed');
  });
});

describe('nats sink', { skip }, () => {
  it('republishes routed logs as line protocol that decodes to the stored records', async () => {
    const base = uniqueName('ccessink');
    const s = await sink({ subject: `${base}.{cluster}.{name}`, address: '127.0.0.1' });
    const wp = await openWritePath(join(dir, 'db-route'), logger, [
      { name: 'republish', sink: s, match: { kinds: ['log'] } },
    ]);
    cleanups.push(() => wp.close());
    await s.start();
    const got = collect(nc, `${base}.>`);
    await nc.flush();

    for (const name of sampleNames())
      await wp.ctx.ingest(readSample(name), { cluster: 'fallback' });
    const logs = await readAll(wp.storage, 'log');
    await s.flush();
    await waitFor(() => lineCount(got) === logs.length, `${logs.length} lines`);

    const republished = got.flatMap((m) =>
      decode(Buffer.from(m.data)).messages.map((msg) => {
        const built = buildRecord(msg, 'log', 0n);
        assert.ok(built.ok, 'every line names its cluster');
        const expected = compileSubject(`${base}.{cluster}.{name}`)(built.record.cluster, msg.name);
        assert.equal(m.subject, expected);
        return comparable(built.record);
      }),
    );
    assert.ok(logs.length >= 8);
    assert.deepEqual(republished.sort(), logs.map((r) => comparable(r)).sort());
    assert.equal(s.counts().publishedLines, logs.length);
  });

  it('batches lines into messages no larger than max_message_bytes', async () => {
    const subject = uniqueName('ccessink.batch');
    const s = await sink({ subject, max_message_bytes: 4096, flush_time: '10s' });
    const got = collect(nc, subject);
    await s.start();
    await nc.flush();

    await s.write(Array.from({ length: 1000 }, (_, i) => event(i)));
    await s.flush();
    await waitFor(() => lineCount(got) === 1000, '1000 lines');
    assert.ok(got.every((m) => m.data.length <= 4096));
    assert.ok(got.length < 20, `${got.length} messages`);
    assert.deepEqual(
      got.flatMap((m) => decode(Buffer.from(m.data)).messages.map((x) => x.fields.event)),
      Array.from({ length: 1000 }, (_, i) => `e${i}`),
    );
    assert.equal(s.counts().publishedMsgs, got.length);
  });

  it('holds lines while the server is away, refuses beyond the hold, and sends them after reconnect', async () => {
    const server = await PrivateNatsServer.start(dir);
    cleanups.push(() => server.halt());
    const s = await sink({ subject: 'held', address: server.url, max_pending_bytes: 4096 });
    await s.start();
    await server.halt();
    await waitFor(async () => {
      try {
        await s.write([event(0)]);
        return false;
      } catch (err) {
        return (err as { code?: string }).code === 'CCES_ERR_INGEST_OVERLOADED';
      }
    }, 'the hold to fill');
    const held = s.counts();
    assert.equal(held.publishedLines, 0);

    await server.resume();
    const sub = await connect({ servers: server.url });
    cleanups.push(() => sub.close());
    const got = collect(sub, 'held');
    await sub.flush();
    await waitFor(() => s.counts().publishedLines > 0, 'held lines published');
    await s.flush();
    await waitFor(() => lineCount(got) === s.counts().publishedLines, 'held lines received');
    assert.ok(s.counts().refusedLines >= 1);
  });

  it('closes once and refuses writes after close', async () => {
    const s = await sink({ subject: uniqueName('ccessink.close') });
    await s.start();
    const first = s.close();
    assert.equal(s.close(), first);
    await first;
    await assert.rejects(s.write([event(1)]), { code: 'CCES_ERR_INGEST_CLOSED' });
  });
});
