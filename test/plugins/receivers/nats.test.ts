import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connect, nkeys, type NatsConnection } from '@nats-io/transport-node';
import natsReceiverPlugin from '../../../plugins/receivers/nats/index.ts';
import type { NatsReceiverConfig } from '../../../plugins/receivers/nats/schema.ts';
import type { Receiver, ReceiverContext } from '../../../core/contracts/receiver.ts';
import { readSample, sampleNames } from '../../helpers/samples.ts';
import { natsSkip } from '../../helpers/services.ts';
import {
  expectedFrom,
  NATS_URL,
  openWritePath,
  PrivateNatsServer,
  storedComparable,
  uniqueName,
  waitFor,
  type WritePath,
} from '../../helpers/nats.ts';

const skip = await natsSkip();
const logger = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'cces-nats-recv-'));
const cleanups: (() => Promise<unknown>)[] = [];
let pub: NatsConnection;
let dbs = 0;

before(async () => {
  if (!skip) pub = await connect({ servers: NATS_URL });
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await pub?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function receiver(cfg: NatsReceiverConfig): Promise<Receiver> {
  const r = await natsReceiverPlugin.create(cfg, { name: 'nats', logger, configDir: dir });
  cleanups.push(() => r.stop());
  return r;
}

async function writePath(): Promise<WritePath> {
  const sub = join(dir, `db${++dbs}`);
  const wp = await openWritePath(sub, logger);
  cleanups.push(() => wp.close());
  return wp;
}

describe('nats receiver, core mode', { skip }, () => {
  it('stores every sample published as one NATS message each, exactly', async () => {
    const wp = await writePath();
    const subject = uniqueName('cces.samples');
    const r = await receiver({ address: '127.0.0.1', port: '4222', subject, cluster: 'fallback' });
    await r.start(wp.ctx);

    const all = sampleNames().map((n) => readSample(n));
    for (const data of all) pub.publish(subject, data);
    await pub.flush();
    await waitFor(() => wp.count('received_msgs') === all.length, 'every message');
    await r.stop();

    const expected = all.map((d) => expectedFrom(d, 'fallback'));
    const records = expected.flatMap((e) => e.records).sort();
    assert.ok(records.length > 50, 'the samples hold events and logs');
    assert.deepEqual(await storedComparable(wp.storage), records);
    const refused = expected.reduce((n, e) => n + e.refused, 0);
    assert.equal(wp.stats.get('receiver:nats', 'rejected'), refused);
    assert.equal((await wp.storage.listRejected(1000)).length, refused);
    assert.equal(
      wp.count('received_bytes'),
      all.reduce((n, d) => n + d.length, 0),
    );
  });

  it('takes the cluster from a subject token, else the subscription, else the receiver', async () => {
    const wp = await writePath();
    const base = uniqueName('cces');
    const r = await receiver({
      port: 4222,
      cluster: 'receiver-default',
      subscriptions: [
        { subject: `*.${base}.job`, cluster_token: 0 },
        { subject: `${base}.fixed`, cluster: 'fixed', precision: 's' },
        { subject: `${base}.plain` },
      ],
    });
    await r.start(wp.ctx);

    pub.publish(`alpha.${base}.job`, 'job event="a" 1735732800000000000\n');
    pub.publish(`beta.${base}.job`, 'job,cluster=tagged event="b" 1735732801000000000\n');
    pub.publish(`${base}.fixed`, 'job event="c" 1735732802\n');
    pub.publish(`${base}.plain`, 'job event="{\\"cluster\\":\\"json\\"}" 1735732803000000000\n');
    pub.publish(`${base}.plain`, 'job event="e" 1735732804000000000\n');
    await pub.flush();
    await waitFor(() => wp.count('stored') === 5, 'five stored');
    await r.stop();

    const stored = (await wp.storage.query({ kind: 'event', order: 'asc', limit: 10 })).records;
    assert.deepEqual(
      stored.map((s) => [s.payload, s.cluster, s.time]),
      [
        ['a', 'alpha', 1735732800000000000n],
        ['b', 'tagged', 1735732801000000000n],
        ['c', 'fixed', 1735732802000000000n],
        ['{"cluster":"json"}', 'json', 1735732803000000000n],
        ['e', 'receiver-default', 1735732804000000000n],
      ],
    );
  });

  it('drops what exceeds max_pending while ingest is busy and counts slow-consumer drops', async () => {
    const subject = uniqueName('cces.slow');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    const counts = new Map<string, number>();
    const ctx: ReceiverContext = {
      logger,
      count: (name, n = 1) => void counts.set(name, (counts.get(name) ?? 0) + n),
      ingest: async (input) => {
        seen.push(Array.isArray(input) ? input.join('|') : String(input));
        await gate;
        return { received: 1, stored: 1, duplicates: 0, skipped: 0, rejected: [] };
      },
    };
    const r = await receiver({ subject, concurrency: 2, max_pending: 3 });
    await r.start(ctx);

    for (let i = 0; i < 10; i++) pub.publish(subject, `m${i}`);
    await pub.flush();
    await waitFor(() => counts.get('received_msgs') === 10, 'ten received');
    assert.equal(counts.get('slow_consumer_drops'), 5);
    release();
    await r.stop();
    assert.deepEqual(seen, ['m0', 'm1', 'm2|m3|m4']);
  });

  it('retries an overloaded ingest instead of losing the message', async () => {
    const wp = await writePath();
    const subject = uniqueName('cces.overload');
    let refusals = 2;
    const ctx: ReceiverContext = {
      ...wp.ctx,
      ingest: (input, opts) => {
        if (refusals-- > 0) {
          const err = Object.assign(new Error('full'), {
            code: 'CCES_ERR_INGEST_OVERLOADED',
            details: { retryAfterSeconds: 0.05 },
          });
          return Promise.reject(err);
        }
        return wp.ctx.ingest(input, opts);
      },
    };
    const r = await receiver({ subject, cluster: 'c1' });
    await r.start(ctx);
    pub.publish(subject, 'job event="x" 1735732800000000000\n');
    await pub.flush();
    await waitFor(() => wp.count('stored') === 1, 'stored after retries');
    await r.stop();
    assert.equal(wp.count('overloaded_retries'), 2);
    assert.equal(wp.count('lost_msgs'), 0);
  });

  it('stops twice with the same promise and refuses a config without subjects', async () => {
    const wp = await writePath();
    const r = await receiver({ subject: uniqueName('cces.stop') });
    await r.start(wp.ctx);
    const first = r.stop();
    assert.equal(r.stop(), first);
    await first;
    await assert.rejects(
      async () => natsReceiverPlugin.create({}, { name: 'bad', logger, configDir: dir }),
      {
        code: 'CCES_ERR_CONFIG_INVALID',
        message: 'receiver "bad": core mode needs "subject" or "subscriptions"',
      },
    );
    await assert.rejects(
      async () =>
        natsReceiverPlugin.create(
          { mode: 'jetstream', stream: 'S' },
          { name: 'js', logger, configDir: dir },
        ),
      {
        code: 'CCES_ERR_CONFIG_INVALID',
        message: 'receiver "js": jetstream mode needs "stream" and "durable"',
      },
    );
  });

  it('fails start with CCES_ERR_NATS_CONNECT when no server listens', async () => {
    const r = await receiver({ subject: 'x', address: '127.0.0.1', port: 1 });
    await assert.rejects(r.start({ ...(await writePath()).ctx }), {
      code: 'CCES_ERR_NATS_CONNECT',
    });
  });
});

describe('nats receiver, authentication', { skip }, () => {
  it('connects with user/password or an nkey file; refuses wrong or missing credentials', async () => {
    const user = nkeys.createUser();
    const seedFile = join(dir, 'user.nk');
    writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`);
    const conf = join(dir, 'auth.conf');
    writeFileSync(
      conf,
      `authorization { users = [ { user: "cc", password: "s3cret" }, { nkey: "${user.getPublicKey()}" } ] }\n`,
    );
    const server = await PrivateNatsServer.start(dir, ['-c', conf]);
    cleanups.push(() => server.halt());
    const base = { address: '127.0.0.1', port: server.port, subject: 'auth.test' };

    for (const cfg of [{ user: 'cc', password: 's3cret' }, { nkey_file: 'user.nk' }]) {
      const wp = await writePath();
      const r = await receiver({ ...base, ...cfg });
      await r.start(wp.ctx);
      await r.stop();
    }
    const wp = await writePath();
    const wrong = await receiver({ ...base, user: 'cc', password: 'wrong' });
    await assert.rejects(wrong.start(wp.ctx), { code: 'CCES_ERR_NATS_CONNECT' });
    await assert.rejects(
      async () =>
        natsReceiverPlugin.create(
          { ...base, nkey_file: 'missing.nk' },
          { name: 'n', logger, configDir: dir },
        ),
      { code: 'CCES_ERR_CONFIG_NOT_FOUND' },
    );
  });

  it('connects with a token', async () => {
    const conf = join(dir, 'token.conf');
    writeFileSync(conf, 'authorization { token: "t0ken" }\n');
    const server = await PrivateNatsServer.start(dir, ['-c', conf]);
    cleanups.push(() => server.halt());
    const wp = await writePath();
    const r = await receiver({
      address: '127.0.0.1',
      port: server.port,
      subject: 'x',
      token: 't0ken',
    });
    await r.start(wp.ctx);
    await r.stop();
    const bad = await receiver({
      address: '127.0.0.1',
      port: server.port,
      subject: 'x',
      token: 'nope',
    });
    await assert.rejects(bad.start(wp.ctx), { code: 'CCES_ERR_NATS_CONNECT' });
  });
});

describe('nats receiver, TLS', { skip }, () => {
  it('connects with a CA and a client certificate, and fails without the client certificate', async () => {
    const tls = makeCertificates(join(dir, 'tls'));
    const server = await PrivateNatsServer.start(dir, [
      '--tlsverify',
      ...['--tlscert', tls.serverCert, '--tlskey', tls.serverKey, '--tlscacert', tls.ca],
    ]);
    cleanups.push(() => server.halt());
    const wp = await writePath();
    const base = { address: '127.0.0.1', port: server.port, subject: 'tls.test' };
    const r = await receiver({
      ...base,
      tls: { ca: 'tls/ca.pem', cert: 'tls/client.pem', key: 'tls/client.key' },
    });
    await r.start(wp.ctx);
    await r.stop();
    const noCert = await receiver({ ...base, tls: { ca: 'tls/ca.pem' } });
    await assert.rejects(noCert.start(wp.ctx), { code: 'CCES_ERR_NATS_CONNECT' });
  });
});

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(at: string) {
  mkdirSync(at, { recursive: true });
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: at, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=cces-test-ca',
  );
  writeFileSync(join(at, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client']) {
    ssl('req', ...ec, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=${who}`);
    const ext = who === 'server' ? ['-extfile', 'san.ext'] : [];
    ssl(
      'x509',
      '-req',
      '-in',
      `${who}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${who}.pem`,
      '-days',
      '1',
      ...ext,
    );
  }
  return {
    ca: join(at, 'ca.pem'),
    serverCert: join(at, 'server.pem'),
    serverKey: join(at, 'server.key'),
  };
}

describe('nats receiver, queue groups', { skip }, () => {
  it('splits a subject between receivers of one queue group', async () => {
    const wp = await writePath();
    const subject = uniqueName('cces.queue');
    const sub = { subject, queue: 'store', cluster: 'c1' };
    const [a, b] = [
      await receiver({ subscriptions: [sub] }),
      await receiver({ subscriptions: [sub] }),
    ];
    await a.start(wp.ctx);
    await b.start(wp.ctx);
    for (let i = 0; i < 200; i++)
      pub.publish(subject, `q event="e${i}" ${1735732800000000000n + BigInt(i)}\n`);
    await pub.flush();
    await waitFor(() => wp.count('stored') === 200, '200 stored');
    await Promise.all([a.stop(), b.stop()]);
    assert.equal(wp.count('received_msgs'), 200);
    assert.equal(wp.count('duplicates'), 0);
  });
});
