import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { openSse, type SseClient } from '../../../helpers/sse.ts';
import { makeApi, type ApiFixture } from './fixture.ts';

const T0 = 1_735_732_800_000_000_000n;

/** One event line at T0 + i seconds. */
const line = (i: number, host = 'n1', payload = `e${i}`) =>
  `tail,cluster=c,hostname=${host} event="${payload}" ${T0 + BigInt(i) * 1_000_000_000n}`;

describe('GET /api/v1/events/stream', () => {
  let f: ApiFixture;
  let base: string;
  const clients: SseClient[] = [];
  const open = async (path: string, headers?: Record<string, string>) => {
    const c = await openSse(`${base}${path}`, headers);
    clients.push(c);
    return c;
  };
  const post = async (...lines: string[]) => {
    const res = await f.app.inject({
      method: 'POST',
      url: '/api/write',
      payload: lines.join('\n'),
    });
    assert.equal(res.statusCode, 204, res.body);
  };
  const payloads = (c: SseClient) => c.events.map((e) => JSON.parse(e.data).payload);

  before(async () => {
    f = await makeApi();
    await post(line(0));
    base = await f.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await f.close();
  });

  it('sends an event committed after the client connected, not the older ones', async () => {
    const c = await open('/api/v1/events/stream');
    assert.equal(c.status, 200);
    assert.match(c.response.headers['content-type']!, /^text\/event-stream/);
    await post(line(1));
    const [ev] = await c.waitFor(1);
    const item = JSON.parse(ev!.data);
    assert.deepEqual(
      { payload: item.payload, cluster: item.cluster, tags: item.tags, time: item.time },
      { payload: 'e1', cluster: 'c', tags: { hostname: 'n1' }, time: String(T0 + 1_000_000_000n) },
    );
    assert.equal(ev!.event, 'message');
    const page = (await f.app.inject({ url: '/api/v1/events?order=asc&limit=1' })).json();
    // The event id is the record's cursor: the query after it starts with the next record.
    const after0 = (
      await f.app.inject({ url: `/api/v1/events?order=asc&cursor=${ev!.id}` })
    ).json();
    assert.equal(page.items[0].payload, 'e0');
    assert.deepEqual(after0.items, []);
    c.close();
  });

  it('resumes after Last-Event-ID with exactly the missed events, then goes on live', async () => {
    const a = await open('/api/v1/events/stream');
    await post(line(10));
    const [first] = await a.waitFor(1);
    a.close();
    await a.ended;

    await post(line(11), line(12));
    await post(line(13));
    const b = await open('/api/v1/events/stream', { 'last-event-id': first!.id! });
    await b.waitFor(3);
    await post(line(14));
    await b.waitFor(4);
    assert.deepEqual(payloads(b), ['e11', 'e12', 'e13', 'e14']);
    const ids = b.events.map((e) => e.id);
    assert.equal(new Set(ids).size, 4);

    // The same through the query parameter, for clients that cannot set the header.
    const q = await open(`/api/v1/events/stream?last_event_id=${b.events[1]!.id}`);
    await q.waitFor(2);
    assert.deepEqual(payloads(q), ['e13', 'e14']);
    b.close();
    q.close();
  });

  it('applies the query filters and replays from `from`', async () => {
    const c = await open('/api/v1/events/stream?hostname=n2&cluster=c');
    await post(line(20, 'n1'), line(21, 'n2'), line(22, 'n3'), line(23, 'n2'));
    await c.waitFor(2);
    assert.deepEqual(payloads(c), ['e21', 'e23']);

    const from = String((T0 + 20_000_000_000n) / 1_000_000_000n);
    const r = await open(`/api/v1/events/stream?from=${from}&hostname=n1`);
    await r.waitFor(1);
    assert.deepEqual(payloads(r), ['e20']);
    c.close();
    r.close();
  });

  it('answers 400 for an unknown parameter or a bad Last-Event-ID', async () => {
    const bad = await f.app.inject({ url: '/api/v1/events/stream?limit=3' });
    assert.equal(bad.statusCode, 400);
    const cursor = await f.app.inject({
      url: '/api/v1/events/stream',
      headers: { 'last-event-id': 'nonsense!' },
    });
    assert.equal(cursor.statusCode, 400);
    assert.equal(cursor.json().code, 'CCES_ERR_QUERY_INVALID');
  });

  it('names the Last-Event-ID header or last_event_id when the resume point is bad', async () => {
    const pass = 'is not valid; pass the id: of an event this stream sent unchanged';
    const header = await f.app.inject({
      url: '/api/v1/events/stream?last_event_id=garbage',
      headers: { 'last-event-id': 'nonsense!' },
    });
    assert.equal(header.statusCode, 400);
    assert.deepEqual(header.json(), {
      code: 'CCES_ERR_QUERY_INVALID',
      message: `the Last-Event-ID header ${pass}`,
    });
    const param = await f.app.inject({ url: '/api/v1/logs/stream?last_event_id=garbage' });
    assert.equal(param.statusCode, 400);
    assert.deepEqual(param.json(), {
      code: 'CCES_ERR_QUERY_INVALID',
      message: `last_event_id ${pass}`,
    });
  });

  it('answers 400 for more than 100 tag filters', async () => {
    const tags = Array.from({ length: 999 }, (_, i) => `tag.k${i}=v`).join('&');
    const res = await f.app.inject({ url: `/api/v1/events/stream?${tags}` });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      code: 'CCES_ERR_QUERY_INVALID',
      message: 'tag.<key>: at most 100 filters, found 999',
    });
  });

  it('streams logs on /api/v1/logs/stream', async () => {
    const c = await open('/api/v1/logs/stream?level=error');
    await post(
      `tail,cluster=c,hostname=n1,loglevel=info log="quiet" ${T0 + 30n}`,
      `tail,cluster=c,hostname=n1,loglevel=ERROR log="loud" ${T0 + 31n}`,
    );
    await c.waitFor(1);
    assert.deepEqual(payloads(c), ['loud']);
    c.close();
  });
});

describe('live tail limits and auth', () => {
  it('cuts a client off that does not read, with a reason, without slowing ingest', async () => {
    const f = await makeApi({
      tailLimits: { maxBufferBytes: 64 * 1024, stallMs: 300, pageSize: 500, heartbeatMs: 60_000 },
    });
    try {
      const base = await f.app.listen({ host: '127.0.0.1', port: 0 });
      const c = await openSse(`${base}/api/v1/events/stream`);
      c.response.pause();
      const big = 'x'.repeat(4000);
      for (let batch = 0; batch < 8; batch++) {
        const lines = Array.from({ length: 500 }, (_, i) => line(batch * 500 + i, 'n1', big));
        const res = await f.app.inject({
          method: 'POST',
          url: '/api/write',
          payload: lines.join('\n'),
        });
        assert.equal(res.statusCode, 204);
      }
      c.response.resume();
      await c.ended;
      const last = c.events.at(-1)!;
      assert.equal(last.event, 'cutoff');
      assert.equal(JSON.parse(last.data).code, 'CCES_ERR_STREAM_SLOW_CLIENT');
      assert.ok(c.events.length - 1 < 4000, `cut off after ${c.events.length - 1} events`);
      // A reconnect resumes where the cut-off client stopped.
      const lastData = c.events.at(-2)!;
      const r = await openSse(`${base}/api/v1/events/stream`, { 'last-event-id': lastData.id! });
      const next = await r.waitFor(1);
      const prev = BigInt(JSON.parse(lastData.data).time);
      assert.equal(BigInt(JSON.parse(next[0]!.data).time), prev + 1_000_000_000n);
      r.close();
    } finally {
      await f.close();
    }
  });

  it('ends open tails with a close event when the server stops', async () => {
    const f = await makeApi();
    const base = await f.app.listen({ host: '127.0.0.1', port: 0 });
    const c = await openSse(`${base}/api/v1/events/stream`);
    await f.close();
    await c.ended;
    assert.equal(c.events.at(-1)?.event, 'close');
  });

  it('needs a token, taken from the header or from ?token=', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA');
    const raw = Buffer.from((await exportJWK(publicKey)).x!, 'base64url').toString('base64');
    const f = await makeApi({ jwtPublicKey: raw });
    try {
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey);
      const base = await f.app.listen({ host: '127.0.0.1', port: 0 });
      const none = await openSse(`${base}/api/v1/events/stream`);
      assert.equal(none.status, 401);
      none.close();
      const wrong = await openSse(`${base}/api/v1/events/stream?token=abc`);
      assert.equal(wrong.status, 401);
      wrong.close();
      const byQuery = await openSse(`${base}/api/v1/events/stream?token=${token}`);
      assert.equal(byQuery.status, 200);
      byQuery.close();
      const byHeader = await openSse(`${base}/api/v1/events/stream`, {
        authorization: `Bearer ${token}`,
      });
      assert.equal(byHeader.status, 200);
      byHeader.close();
    } finally {
      await f.close();
    }
  });
});
