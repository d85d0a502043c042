import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import type { ReceiverContext } from '../../../core/contracts/receiver.ts';
import { createIngest } from '../../../core/ingest.ts';
import { Router } from '../../../core/router.ts';
import httpPlugin from '../../../plugins/receivers/http/index.ts';
import type { HttpReceiver } from '../../../plugins/receivers/http/receiver.ts';
import { readSample } from '../../helpers/samples.ts';
import { makeApi, type ApiFixture } from '../api/rest/fixture.ts';

const SCOPE = 'receiver:http';
const logger = pino({ level: 'silent' });
const basic = (user: string, pass: string) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

/** A receiver on port 0 over the fixture's real database. */
async function startReceiver(f: ApiFixture, config: Record<string, unknown>) {
  const receiver = (await httpPlugin.create(
    { address: '127.0.0.1', port: 0, ...config },
    { name: 'http', logger, configDir: '/' },
  )) as HttpReceiver;
  const router = new Router(f.manager, [], f.stats, logger);
  const ctx: ReceiverContext = {
    ingest: createIngest({ router, storage: f.manager, stats: f.stats, logger }, SCOPE),
    logger,
    count: (name, n = 1) => f.stats.add(SCOPE, name, n),
  };
  await receiver.start(ctx);
  return { receiver, url: `http://127.0.0.1:${receiver.port}` };
}

describe('HTTP receiver with basic auth', () => {
  let f: ApiFixture;
  let receiver: HttpReceiver;
  let url: string;
  const auth = { authorization: basic('user1', 'sécret') };
  const events = async () =>
    (await f.storage.query({ kind: 'event', order: 'asc', limit: 1000 })).records;

  before(async () => {
    f = await makeApi();
    ({ receiver, url } = await startReceiver(f, {
      path: '/ingest',
      username: 'user1',
      password: 'sécret',
      cluster: 'rc',
      max_body_size: '64KiB',
    }));
  });
  after(async () => {
    await receiver.stop();
    await f.close();
  });

  it('answers 401 without or with wrong credentials and counts it', async () => {
    const none = await fetch(`${url}/ingest`, { method: 'POST', body: 'a event="x" 1' });
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Basic realm="cc-event-store"');
    assert.equal(((await none.json()) as { code: string }).code, 'CCES_ERR_AUTH_MISSING');
    for (const [u, p] of [
      ['user1', 'secret'],
      ['user2', 'sécret'],
      ['user1', 'sécret '],
    ]) {
      const res = await fetch(`${url}/ingest`, {
        method: 'POST',
        body: 'a event="x" 1',
        headers: { authorization: basic(u!, p!) },
      });
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), {
        code: 'CCES_ERR_AUTH_INVALID',
        message: 'wrong username or password',
      });
    }
    assert.equal(f.stats.get(SCOPE, 'refused_401'), 4);
    assert.deepEqual(await events(), []);
  });

  it('stores with the receiver cluster as default and answers 204', async () => {
    const res = await fetch(`${url}/ingest`, {
      method: 'POST',
      body: readSample('missing-cluster.lp'),
      headers: auth,
    });
    assert.equal(res.status, 204);
    const stored = await events();
    assert.deepEqual(
      stored.map((r) => [r.name, r.cluster]),
      [
        ['job', 'clusterb'],
        ['nodestate', 'clusterb'],
        ['myevent', 'rc'],
        ['job', 'clusterb'],
        ['job', 'testcluster'],
      ],
    );
    assert.equal(f.stats.get(SCOPE, 'stored'), 6);
  });

  it('lets the query string override cluster and precision', async () => {
    const res = await fetch(`${url}/ingest?cluster=qc&precision=s`, {
      method: 'POST',
      body: 'q event="override" 1735732800',
      headers: auth,
    });
    assert.equal(res.status, 204);
    const r = (await events()).find((e) => e.payload === 'override');
    assert.deepEqual([r?.cluster, r?.time], ['qc', 1735732800000000000n]);
  });

  it('answers 400 naming a query parameter given twice, and stores nothing', async () => {
    const res = await fetch(`${url}/ingest?cluster=a&cluster=b`, {
      method: 'POST',
      body: 'twice event="twice" 1735732800',
      headers: auth,
    });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), {
      code: 'CCES_ERR_QUERY_INVALID',
      message: 'querystring/cluster must be given once, not 2 times',
    });
    assert.equal((await events()).filter((e) => e.payload === 'twice').length, 0);
  });

  it('answers 400 with the refused lines, reads gzip, and refuses large bodies with 413', async () => {
    const bad = await fetch(`${url}/ingest`, {
      method: 'POST',
      body: 'ok event="g" 1\nbroken\n',
      headers: auth,
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(((await bad.json()) as { errors: unknown }).errors, [
      { line: 2, column: 7, reason: 'syntax: missing field set' },
    ]);

    const gz = await fetch(`${url}/ingest`, {
      method: 'POST',
      body: gzipSync('z event="gz" 2'),
      headers: { ...auth, 'content-encoding': 'gzip' },
    });
    assert.equal(gz.status, 204);
    assert.ok((await events()).some((e) => e.payload === 'gz' && e.cluster === 'rc'));

    const big = await fetch(`${url}/ingest`, {
      method: 'POST',
      body: readSample('long-payload.lp'),
      headers: auth,
    });
    assert.equal(big.status, 413);
    assert.equal(f.stats.get(SCOPE, 'refused_413'), 1);
  });

  it('answers 404 on other paths', async () => {
    const res = await fetch(`${url}/write`, { method: 'POST', body: 'x', headers: auth });
    assert.equal(res.status, 404);
  });
});

describe('HTTP receiver lifecycle', () => {
  it('finishes a request in flight on stop, then takes no more connections', async () => {
    let entered!: () => void;
    let release!: () => void;
    const inStorage = new Promise<void>((r) => (entered = r));
    const held = new Promise<void>((r) => (release = r));
    const f = await makeApi({
      holdWrites: () => {
        entered();
        return held;
      },
    });
    const { receiver, url } = await startReceiver(f, { keep_alives_enabled: false });
    try {
      const pending = fetch(`${url}/write`, { method: 'POST', body: 'c,cluster=c event="x" 1' });
      await inStorage;
      let stopped = false;
      const stopping = receiver.stop().then(() => (stopped = true));
      assert.equal(receiver.stop(), receiver.stop());
      await new Promise((r) => setImmediate(r));
      assert.equal(stopped, false);

      release();
      const res = await pending;
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('connection'), 'close');
      await stopping;
      await assert.rejects(fetch(`${url}/write`, { method: 'POST', body: 'x' }));
      assert.equal(
        (await f.storage.query({ kind: 'event', order: 'asc', limit: 10 })).records.length,
        1,
      );
    } finally {
      release();
      await receiver.stop();
      await f.close();
    }
  });

  it('refuses a config with a username but no password', async () => {
    assert.throws(
      () => httpPlugin.create({ username: 'u' }, { name: 'h', logger, configDir: '/' }),
      (err: Error & { code?: string }) => err.code === 'CCES_ERR_CONFIG_INVALID',
    );
  });

  it('refuses a config whose cluster holds a comma, since filters split at commas', async () => {
    assert.throws(
      () => httpPlugin.create({ cluster: 'a,b' }, { name: 'h', logger, configDir: '/' }),
      {
        code: 'CCES_ERR_CONFIG_INVALID',
        message:
          'receiver h: cluster "a,b" holds a comma; cluster filters split at commas, so its ' +
          'records could never be queried by cluster',
      },
    );
  });
});
