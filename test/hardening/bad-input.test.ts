/**
 * Bad input against the real store process: empty bodies, a 1 GB body refused before it is
 * read, a gzip bomb, clients that stall, thousands of connections, and the decoder fuzzed
 * with random and mutated samples.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { decode } from '../../core/lineproto/index.ts';
import { fuzzInput, loadSamples, Rng } from './fuzz-inputs.ts';
import {
  databaseCounts,
  rawRequest,
  removeHardenedStore,
  startHardenedStore,
  type HardenedStore,
} from './harness.ts';

let h: HardenedStore;
let receiverUrl: string;

before(async () => {
  h = await startHardenedStore({
    backend: 'sqlite',
    api: { request_timeout: '1s' },
    receivers: { in: { type: 'http', address: '127.0.0.1', port: 0, request_timeout: '1s' } },
  });
  const listening = h.store.logs.find((l) => l.includes('receiver in listening at'))!;
  receiverUrl = `${/listening at (http:\/\/[^"]+)/.exec(listening)![1]!}/write`;
});

after(() => removeHardenedStore(h));

/** Opens a socket to the URL's host and port. */
function socketTo(url: string): Promise<Socket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect({ host: u.hostname, port: Number(u.port) }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with what the server sent once it closed the socket, and after how many ms. */
function untilClosed(s: Socket): Promise<{ text: string; ms: number }> {
  const start = Date.now();
  let text = '';
  s.on('data', (d: Buffer) => (text += d.toString()));
  return new Promise((resolve) => s.once('close', () => resolve({ text, ms: Date.now() - start })));
}

describe('bodies', () => {
  it('answers an empty body with 204 and stores nothing', async () => {
    for (const url of [`${h.store.api}/api/write`, `${h.store.api}/write?db=c`, receiverUrl]) {
      const res = await rawRequest(url, { method: 'POST', body: '' });
      assert.equal(res.status, 204, url);
      const chunked = await rawRequest(url, {
        method: 'POST',
        headers: { 'transfer-encoding': 'chunked' },
        body: '',
      });
      assert.equal(chunked.status, 204, url);
    }
    assert.deepEqual(await databaseCounts(h.store), { events: 0, logs: 0 });
  });

  it('refuses a 1 GB body with 413 before reading more than a few MB', async () => {
    for (const url of [`${h.store.api}/api/write`, receiverUrl]) {
      const s = await socketTo(url);
      const u = new URL(url);
      const closed = untilClosed(s);
      s.write(`POST ${u.pathname} HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 ** 30}\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      let answered = false;
      void closed.then(() => (answered = true));
      s.once('data', () => (answered = true));
      while (!answered && !s.destroyed && sent < 2 ** 30) {
        if (!s.write(chunk)) await new Promise((r) => setTimeout(r, 5));
        sent += chunk.length;
        await new Promise((r) => setImmediate(r));
      }
      s.destroy();
      const { text } = await closed;
      // The server closes with the rest of the body unread, so the kernel may answer with a
      // reset that overtakes the 413 (see the report); what must hold is that it stopped
      // reading early.
      if (text !== '') assert.match(text, /^HTTP\/1\.1 413 /, url);
      assert.ok(sent < 8 * 2 ** 20, `${url}: sent ${sent} bytes before the answer`);
    }
    assert.equal((await fetch(`${h.store.api}/healthz`)).status, 200);
  });

  it('refuses a gzip bomb with 413', async () => {
    const bomb = gzipSync(Buffer.alloc(100 * 2 ** 20, 'a'), { level: 9 });
    const res = await rawRequest(`${h.store.api}/api/write`, {
      method: 'POST',
      headers: { 'content-encoding': 'gzip' },
      body: bomb,
    });
    assert.equal(res.status, 413);
    assert.equal(JSON.parse(res.body).code, 'CCES_ERR_HTTP_BODY_TOO_LARGE');
    assert.deepEqual(await databaseCounts(h.store), { events: 0, logs: 0 });
  });
});

describe('slow clients', () => {
  for (const [name, part] of [
    ['half the headers', 'POST /api/write HTTP/1.1\r\nHost: x\r\n'],
    [
      'headers and part of the body',
      'POST /api/write HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc',
    ],
  ] as const) {
    it(`cuts off a client that stalls after ${name}`, async () => {
      for (const url of [h.store.api, receiverUrl]) {
        const s = await socketTo(url);
        const closed = untilClosed(s);
        s.write(url === receiverUrl ? part.replace('/api/write', '/write') : part);
        const limit = new Promise<{ ms: number }>((r) =>
          setTimeout(() => r({ ms: Infinity }), 8000),
        );
        const { ms } = await Promise.race([closed, limit]);
        s.destroy();
        assert.ok(ms < 5000, `closed after ${ms} ms`);
      }
    });
  }
});

describe('connections', () => {
  it('keeps answering with 2000 keep-alive connections open, and after they close', async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 2000; i++) {
      const s = await socketTo(h.store.api);
      s.setNoDelay(true);
      sockets.push(s);
    }
    const answers = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<string>((resolve) => {
            s.once('data', (d: Buffer) => resolve(d.toString().slice(0, 15)));
            s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
          }),
      ),
    );
    assert.equal(answers.filter((a) => a === 'HTTP/1.1 200 OK').length, 2000);
    assert.equal((await fetch(`${h.store.api}/healthz`)).status, 200);
    for (const s of sockets) s.destroy();
    assert.equal((await fetch(`${h.store.api}/healthz`)).status, 200);
    assert.equal((await fetch(`${h.store.api}/readyz`)).status, 200);
  });
});

describe('decoder fuzzing', () => {
  it('decodes 50,000 random and mutated inputs without a throw or a slow input', () => {
    const samples = loadSamples();
    const rng = new Rng(0xc0ffee);
    let slowest = 0;
    for (let i = 0; i < 50_000; i++) {
      const input = fuzzInput(rng, samples);
      const t0 = performance.now();
      const res = decode(input, { now: 1_767_000_000_000_000_000n });
      slowest = Math.max(slowest, performance.now() - t0);
      assert.ok(Array.isArray(res.messages) && Array.isArray(res.errors), `input ${i}`);
      for (const e of res.errors) assert.ok(e.raw.length <= 64 * 1024, `input ${i}`);
    }
    assert.ok(slowest < 250, `slowest decode ${slowest} ms`);
  });

  it('answers 500 mutated samples posted over HTTP with 204 or 400 only', async () => {
    const samples = loadSamples();
    const rng = new Rng(42);
    const statuses = new Map<number, number>();
    for (let i = 0; i < 500; i++) {
      const body = fuzzInput(rng, samples);
      const res = await rawRequest(`${h.store.api}/api/write?cluster=fuzz`, {
        method: 'POST',
        body,
      });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
    assert.deepEqual(
      [...statuses.keys()].filter((s) => s !== 204 && s !== 400),
      [],
    );
    assert.equal((await fetch(`${h.store.api}/readyz`)).status, 200);
  });
});
