import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { pino } from 'pino';
import type { Storage } from '../../core/contracts/storage.ts';
import { decode } from '../../core/lineproto/index.ts';
import { startHost, type Host } from '../../core/host.ts';
import { BUILTINS } from '../../plugins/builtins.ts';
import sqlitePlugin from '../../plugins/storage/sqlite/index.ts';
import { ConfigDir, fixturesDir } from '../helpers/config-files.ts';
import { NATS_URL, readAll, uniqueName, waitFor } from '../helpers/nats.ts';
import { StoreProcess } from '../helpers/store-process.ts';

type LogLine = Record<string, unknown>;

let nc: NatsConnection;
let dir: ConfigDir | undefined;
let host: Host | undefined;
let logs: LogLine[] = [];
/** Called with every log line of the host as it is written. */
let onLog: (line: LogLine) => void = () => {};

before(async () => {
  nc = await connect({ servers: NATS_URL });
});
after(() => nc.close());
afterEach(async () => {
  await host?.stop();
  host = undefined;
  dir?.remove();
  dir = undefined;
  logs = [];
  onLog = () => {};
});

const natsReceiver = (subject: string) => ({
  type: 'nats',
  address: '127.0.0.1',
  port: 4222,
  subject,
  cluster: 'rl',
});

/** Starts a host on real SQLite with these receivers and sinks files. */
async function start(receivers: unknown, sinks: unknown = {}): Promise<Host> {
  dir = new ConfigDir({
    'config.json': {
      receivers: 'receivers.json',
      sinks: 'sinks.json',
      storage: 'storage.json',
      api: 'api.json',
    },
    'receivers.json': receivers,
    'sinks.json': sinks,
    'storage.json': {
      retention_time: '0',
      flush_time: '5ms',
      backend: { type: 'sqlite', database_path: 'events.db' },
    },
    // The API plays no part here; the recording fixture keeps these tests to the write path.
    'api.json': { type: `${fixturesDir}/recording-api.ts` },
  });
  const write = (text: string) => {
    const line = JSON.parse(text) as LogLine;
    logs.push(line);
    onLog(line);
  };
  const logger = pino({ level: 'info' }, { write });
  host = await startHost(dir.file('config.json'), { logger, builtins: BUILTINS });
  return host;
}

/** Every stored event (the host is stopped first, so that everything is committed). */
async function storedEvents(): Promise<string[]> {
  await host!.stop();
  const logger = pino({ level: 'silent' });
  const ctx = { name: 'sqlite', logger, configDir: dir!.path };
  const storage = (await sqlitePlugin.create({ database_path: 'events.db' }, ctx)) as Storage;
  await storage.open();
  try {
    return (await readAll(storage, 'event')).map((r) => String(r.payload));
  } finally {
    await storage.close();
  }
}

const T0 = 1_700_000_000_000_000_000n;
const line = (i: number) => `reload,hostname=n1 event="${i}" ${T0 + BigInt(i)}\n`;
const stored = (name: string) => host!.stats.get(`receiver:${name}`, 'stored');

describe('Host.reload', () => {
  it('keeps the running receivers when the receivers file is broken, and logs why', async () => {
    const subject = uniqueName('reload.broken');
    await start({ nats: natsReceiver(subject) });
    nc.publish(subject, line(1));
    await waitFor(() => stored('nats') === 1, 'the first event');

    dir!.write({ 'receivers.json': '{ "nats": ' });
    const broken = await host!.reload();
    assert.equal(broken.ok, false);
    assert.equal(!broken.ok && broken.error.code, 'CCES_ERR_CONFIG_PARSE');
    dir!.write({ 'receivers.json': { nats: { ...natsReceiver(subject), subjekt: 'x' } } });
    const unknown = await host!.reload();
    assert.equal(!unknown.ok && unknown.error.code, 'CCES_ERR_CONFIG_UNKNOWN_KEY');

    const failures = logs.filter((l) => l.msg === 'reload failed; running config kept');
    assert.deepEqual(
      failures.map((l) => [l.level, l.code]),
      [
        [50, 'CCES_ERR_CONFIG_PARSE'],
        [50, 'CCES_ERR_CONFIG_UNKNOWN_KEY'],
      ],
    );
    assert.equal(host!.stats.get('host', 'reload_failures'), 2);
    assert.equal(logs.filter((l) => l.msg === 'receiver started').length, 1);

    nc.publish(subject, line(2));
    await waitFor(() => stored('nats') === 2, 'the event sent after the failed reloads');
    assert.deepEqual((await storedEvents()).sort(), ['1', '2']);
  });

  it('moves a receiver from one core subject to another under load and loses nothing', async () => {
    const N = 3000;
    const [a, b] = [uniqueName('reload.a'), uniqueName('reload.b')];
    await start({ nats: natsReceiver(a) });

    // The publisher moves to B once the new subscription is confirmed, while the old one
    // (on A) is still there: the host starts the new receiver before it stops the old one.
    let subject = a;
    onLog = (l) => {
      const subjects = l.subjects as string[] | undefined;
      if (l.msg === 'nats subscribed' && subjects?.[0] === b) subject = b;
    };
    let reachedThird!: () => void;
    const third = new Promise<void>((r) => (reachedThird = r));
    const sentTo = new Map<string, number>();
    const publisher = (async () => {
      for (let i = 0; i < N; i++) {
        nc.publish(subject, line(i));
        sentTo.set(subject, (sentTo.get(subject) ?? 0) + 1);
        if (i === N / 3) reachedThird();
        // A steady rate of about 2000 events/s, so the reload happens amid the stream.
        if (i % 20 === 19) await Promise.all([nc.flush(), new Promise((r) => setTimeout(r, 10))]);
      }
      await nc.flush();
    })();

    await third;
    dir!.write({ 'receivers.json': { nats: natsReceiver(b) } });
    const result = await host!.reload();
    assert.equal(subject, b);
    assert.deepEqual(result.ok && result.summary.receivers, {
      added: [],
      removed: [],
      restarted: ['nats'],
      rules: [],
    });
    await publisher;
    assert.ok(sentTo.get(a)! > N / 3 && sentTo.get(b)! > N / 3, JSON.stringify([...sentTo]));

    await waitFor(() => stored('nats') >= N, `${N} stored events`, 30_000);
    const scope = 'receiver:nats';
    assert.equal(host!.stats.get(scope, 'slow_consumer_drops'), 0);
    assert.equal(host!.stats.get(scope, 'lost_msgs'), 0);
    const events = await storedEvents();
    assert.equal(events.length, N);
    assert.equal(new Set(events).size, N);
    assert.deepEqual(
      events.map(Number).sort((x, y) => x - y),
      Array.from({ length: N }, (_, i) => i),
    );
  });

  it('routes records to a sink that a reload added', async () => {
    const [subject, out] = [uniqueName('reload.in'), uniqueName('reload.out')];
    const sub = nc.subscribe(`${out}.>`);
    const forwarded: string[] = [];
    const got = (async () => {
      for await (const m of sub) forwarded.push(...m.string().split('\n').filter(Boolean));
    })();
    await start({ nats: natsReceiver(subject) });

    const sink = { type: 'nats', address: '127.0.0.1', port: 4222, flush_time: '5ms' };
    const match = { kinds: ['event'] };
    dir!.write({ 'sinks.json': { fwd: { ...sink, subject: `${out}.{cluster}`, match } } });
    const result = await host!.reload();
    assert.deepEqual(result.ok && result.summary.sinks, {
      added: ['fwd'],
      removed: [],
      restarted: [],
      rules: [],
    });

    nc.publish(subject, `${line(7)}reload,hostname=n1 log="not for the sink" ${T0}\n`);
    await waitFor(() => forwarded.length === 1, 'the forwarded event');
    assert.equal(stored('nats'), 2);
    assert.deepEqual(await storedEvents(), ['7']);
    await nc.flush();
    sub.unsubscribe();
    await got;

    assert.equal(forwarded.length, 1);
    const [msg] = decode(forwarded[0]!).messages;
    assert.deepEqual(
      [msg!.name, { ...msg!.tags }, { ...msg!.fields }, msg!.time],
      ['reload', { cluster: 'rl', hostname: 'n1' }, { event: '7' }, T0 + 7n],
    );
  });
});

describe('cc-event-store on SIGHUP', () => {
  it('reads the changed receivers file and logs reloaded', async () => {
    const [s1, s2] = [uniqueName('reload.cli1'), uniqueName('reload.cli2')];
    const d = (dir = new ConfigDir({
      'config.json': {
        receivers: 'receivers.json',
        storage: { flush_time: '5ms', backend: { type: 'sqlite', database_path: 'events.db' } },
        api: { address: '127.0.0.1', port: 0 },
      },
      'receivers.json': { n1: natsReceiver(s1) },
    }));
    const store = await StoreProcess.start(d.file('config.json'));
    try {
      d.write({ 'receivers.json': { n1: natsReceiver(s1), n2: natsReceiver(s2) } });
      store.proc.kill('SIGHUP');
      const reloaded = () => store.logs.map(parse).find((l) => l?.msg === 'reloaded');
      await waitFor(() => reloaded() !== undefined, 'the reloaded log line');
      assert.deepEqual(reloaded()!.receivers, {
        added: ['n2'],
        removed: [],
        restarted: [],
        rules: [],
      });

      nc.publish(s2, line(9));
      await waitFor(async () => (await store.counter('receiver:n2', 'stored')) === 1, 'n2 ingest');
    } finally {
      assert.equal(await store.stop(), 0);
    }
  });
});

function parse(text: string): LogLine | undefined {
  return text.startsWith('{') ? (JSON.parse(text) as LogLine) : undefined;
}
