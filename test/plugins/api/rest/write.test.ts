import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { StoredRecord } from '../../../../core/record.ts';
import type { SqliteStorage } from '../../../../plugins/storage/sqlite/sqlite-storage.ts';
import { readSample } from '../../../helpers/samples.ts';
import { makeApi, type ApiFixture } from './fixture.ts';

const MALFORMED_ERRORS = [
  { line: 3, column: 66, reason: 'syntax: field value has unrecognized type' },
  { line: 6, column: 64, reason: 'syntax: field value has unrecognized type' },
  { line: 9, column: 61, reason: "syntax: expected '=' after field key" },
  { line: 12, column: 4, reason: 'syntax: missing field set' },
  { line: 15, column: 34, reason: 'syntax: empty tag value' },
  { line: 18, column: 5, reason: 'syntax: expected tag key after comma; got white space' },
  { line: 21, column: 44, reason: "syntax: expected '=' after field key" },
  { line: 24, column: 46, reason: "syntax: unescaped '=' in tag value" },
  { line: 27, column: 53, reason: 'syntax: unexpected character after field' },
  { line: 30, column: 49, reason: 'syntax: invalid boolean value' },
  { line: 33, column: 49, reason: 'syntax: value out of range' },
  { line: 36, column: 73, reason: 'syntax: unexpected text after timestamp' },
  { line: 40, column: 49, reason: 'syntax: expected closing quote' },
];

async function all(f: ApiFixture, kind: 'event' | 'log' = 'event'): Promise<StoredRecord[]> {
  return (await f.storage.query({ kind, order: 'asc', limit: 10_000 })).records;
}

function post(f: ApiFixture, url: string, payload: Buffer | string, headers = {}) {
  return f.app.inject({ method: 'POST', url, payload, headers });
}

describe('POST /api/write', () => {
  let f: ApiFixture;
  before(async () => (f = await makeApi({ maxBodySize: 1024 * 1024 })));
  after(() => f.close());

  it('answers 204 and stores every event of job-events.lp', async () => {
    const res = await post(f, '/api/write', readSample('job-events.lp'), {
      'content-type': 'text/plain',
    });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    const stored = await all(f);
    assert.equal(stored.length, 9);
    assert.deepEqual(stored.map((r) => [r.name, r.cluster, r.time]).slice(0, 3), [
      ['job', 'testcluster', 1735732800000000000n],
      ['myevent', 'testcluster', 1735732805000000000n],
      ['nodestate', 'testcluster', 1735732830000000000n],
    ]);
  });

  it('answers 204 on the trailing-slash path for a repeated input (all duplicates)', async () => {
    const res = await post(f, '/api/write/', readSample('job-events.lp'));
    assert.equal(res.statusCode, 204);
    assert.equal((await all(f)).length, 9);
  });

  it('answers 400 with every refused line of malformed.lp and stores the good ones', async () => {
    const res = await post(f, '/api/write', readSample('malformed.lp'), {
      'content-type': 'application/json',
    });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      code: 'CCES_ERR_INGEST_REJECTED',
      message: '13 of 26 entries refused; 13 stored',
      stored: 13,
      duplicates: 0,
      skipped: 0,
      rejected: 13,
      errors: MALFORMED_ERRORS,
    });
    const good = (await all(f)).filter((r) => r.name === 'good').map((r) => r.payload);
    const expected = [...Array.from({ length: 12 }, (_, i) => `after-${i + 1}`), 'before-13'];
    assert.deepEqual(good, expected);
  });

  it('says that none was stored when every entry is refused', async () => {
    const res = await post(f, '/api/write', '{"a":1}');
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      code: 'CCES_ERR_INGEST_REJECTED',
      message: '1 of 1 entry refused; none stored',
      stored: 0,
      duplicates: 0,
      skipped: 0,
      rejected: 1,
      errors: [{ line: 1, column: 8, reason: 'syntax: missing field set' }],
    });
  });

  it('refuses a cluster name with a comma, which no cluster filter could select', async () => {
    const tagged = await post(f, '/api/write', 'comma,cluster=a\\,b event="tag" 1735732800');
    assert.equal(tagged.statusCode, 400);
    assert.deepEqual(tagged.json().errors, [{ line: 1, reason: 'comma_in_cluster' }]);

    const why = 'holds a comma; cluster names cannot, since cluster filters split at commas';
    const bare = 'comma event="default" 1735732800';
    const api = await post(f, '/api/write?cluster=a,b', bare);
    assert.equal(api.statusCode, 400);
    assert.deepEqual(api.json(), {
      code: 'CCES_ERR_QUERY_INVALID',
      message: `cluster: "a,b" ${why}`,
    });
    const influx = await post(f, '/write?db=a,b&precision=s', bare);
    assert.equal(influx.statusCode, 400);
    assert.deepEqual(influx.json(), { code: 'CCES_ERR_QUERY_INVALID', error: `db: "a,b" ${why}` });
    assert.deepEqual(
      (await all(f)).filter((r) => r.name === 'comma'),
      [],
    );
  });

  it('takes the cluster of lines without one from ?cluster=', async () => {
    const bare = await post(f, '/api/write', readSample('missing-cluster.lp'));
    assert.equal(bare.statusCode, 400);
    assert.deepEqual(bare.json().errors, [
      { line: 6, reason: 'no_cluster' },
      { line: 7, reason: 'no_cluster' },
    ]);

    const res = await post(f, '/api/write?cluster=clusterb', readSample('missing-cluster.lp'));
    assert.equal(res.statusCode, 204);
    const names = (await all(f, 'log')).filter((r) => r.name === 'ccnc');
    assert.deepEqual(
      names.map((r) => [r.cluster, r.payload]),
      [['clusterb', 'controller started']],
    );
  });

  it('reads timestamps in the stated precision, with InfluxDB spellings', async () => {
    const line = (p: string) => `prec,cluster=p,hostname=h event="${p}" 1735732800123`;
    for (const [p, time] of [
      ['ms', 1735732800123000000n],
      ['u', 1735732800123000n],
      ['n', 1735732800123n],
      ['auto', 1735732800123000000n],
    ] as const) {
      assert.equal((await post(f, `/api/write?precision=${p}`, line(p))).statusCode, 204);
      const got = (await all(f)).find((r) => r.payload === p);
      assert.equal(got?.time, time, p);
    }
    for (const p of ['xx', 'h', 'm']) {
      const bad = await post(f, `/api/write?precision=${p}`, line(p));
      assert.equal(bad.statusCode, 400);
      assert.deepEqual(bad.json(), {
        code: 'CCES_ERR_QUERY_INVALID',
        message: 'querystring/precision must be one of auto, s, ms, us, ns, u, n',
      });
    }
  });

  it('refuses unknown query parameters', async () => {
    const res = await post(f, '/api/write?clustr=x', 'a b=1');
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      code: 'CCES_ERR_QUERY_INVALID',
      message: 'querystring: unknown parameter "clustr"',
    });
  });

  it('refuses a query parameter given twice, naming it, and stores nothing', async () => {
    const res = await post(f, '/api/write?precision=s&precision=ms', 'twice,cluster=t e="x" 1');
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      code: 'CCES_ERR_QUERY_INVALID',
      message: 'querystring/precision must be given once, not 2 times',
    });
    assert.deepEqual(
      (await all(f)).filter((r) => r.name === 'twice'),
      [],
    );
  });

  it('reads gzip and deflate bodies', async () => {
    const body = 'zip,cluster=z,hostname=h event="gz" 1735732800\n';
    const gz = await post(f, '/api/write', gzipSync(body), { 'content-encoding': 'gzip' });
    assert.equal(gz.statusCode, 204);
    const df = await post(f, '/api/write', deflateSync(body.replace('gz', 'df')), {
      'content-encoding': 'deflate',
    });
    assert.equal(df.statusCode, 204);
    const got = (await all(f)).filter((r) => r.name === 'zip').map((r) => r.payload);
    assert.deepEqual(got, ['gz', 'df']);
  });

  it('reads raw deflate bodies (without the zlib header) as well', async () => {
    const body = 'raw,cluster=z,hostname=h event="raw" 1735732800\n';
    const res = await post(f, '/api/write', deflateRawSync(body), {
      'content-encoding': 'deflate',
    });
    assert.equal(res.statusCode, 204, res.body);
    const got = (await all(f)).filter((r) => r.name === 'raw').map((r) => r.payload);
    assert.deepEqual(got, ['raw']);
  });

  it('answers 413 naming max_body_size for a body over the limit and for a gzip bomb', async () => {
    const big = await post(f, '/api/write', Buffer.alloc(1024 * 1024 + 1, 0x61));
    assert.equal(big.statusCode, 413);
    assert.deepEqual(big.json(), {
      code: 'CCES_ERR_HTTP_BODY_TOO_LARGE',
      message: 'the body exceeds max_body_size (1048576 bytes)',
    });

    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x61));
    assert.ok(bomb.length < 64 * 1024);
    const res = await post(f, '/api/write', bomb, { 'content-encoding': 'gzip' });
    assert.equal(res.statusCode, 413);
    assert.deepEqual(res.json(), {
      code: 'CCES_ERR_HTTP_BODY_TOO_LARGE',
      message: 'the gzip body decompresses to more than max_body_size (1048576 bytes)',
    });
  });

  it('answers 400 for broken gzip and 415 for an unknown encoding', async () => {
    const broken = await post(f, '/api/write', Buffer.from('not gzip'), {
      'content-encoding': 'gzip',
    });
    assert.equal(broken.statusCode, 400);
    assert.equal(broken.json().code, 'CCES_ERR_HTTP_BODY_INVALID');
    const br = await post(f, '/api/write', 'x', { 'content-encoding': 'br' });
    assert.equal(br.statusCode, 415);
    assert.equal(br.json().code, 'CCES_ERR_HTTP_UNSUPPORTED_ENCODING');
  });

  it('counts the column of an error in UTF-8 bytes from the start of the line', async () => {
    // The "b" of "bad" is the 19th character of line 2 and its 20th byte.
    const body = 'x,cluster=c event="ok" 1\n\u00e4,cluster=c event=bad 1';
    const res = await post(f, '/api/write', body);
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json().errors, [
      { line: 2, column: 20, reason: 'syntax: field value has unrecognized type' },
    ]);
  });

  it('answers 204 for an empty body', async () => {
    assert.equal((await post(f, '/api/write', '')).statusCode, 204);
  });
});

describe('POST /write (InfluxDB 1.x)', () => {
  let f: ApiFixture;
  before(async () => (f = await makeApi()));
  after(() => f.close());

  it('stores lines under ?db= with ?precision=s and answers 204', async () => {
    const res = await post(
      f,
      '/write?db=influxc&precision=s&rp=autogen',
      'cpu event="up" 1735732800',
    );
    assert.equal(res.statusCode, 204);
    const [r] = await all(f);
    assert.deepEqual([r?.cluster, r?.time, r?.payload], ['influxc', 1735732800000000000n, 'up']);
  });

  it('reads timestamps as ns when no precision is given, as InfluxDB does', async () => {
    assert.equal((await post(f, '/write?db=influxc', 'cpu event="ns" 1735732800')).statusCode, 204);
    const r = (await all(f)).find((x) => x.payload === 'ns');
    assert.equal(r?.time, 1735732800n);
  });

  it('answers a partial write with 400 and an InfluxDB error body', async () => {
    const res = await post(f, '/write?db=influxc', 'cpu event="ok" 1\nbad line\n');
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      error: "partial write: line 2: syntax: expected '=' after field key dropped=1",
      code: 'CCES_ERR_INGEST_REJECTED',
    });
  });

  it('refuses precision m, h and auto in an InfluxDB error body listing the others', async () => {
    for (const p of ['m', 'h', 'auto']) {
      const res = await post(f, `/write?db=influxc&precision=${p}`, 'cpu event="m" 1');
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), {
        error: 'querystring/precision must be one of s, ms, u, n, us, ns',
        code: 'CCES_ERR_QUERY_INVALID',
      });
    }
  });

  it('takes ?cluster= as another name for ?db=, alone or agreeing with it', async () => {
    for (const q of ['cluster=alias', 'db=alias&cluster=alias']) {
      const res = await post(f, `/write?${q}&precision=s`, `alias event="${q}" 1735732801`);
      assert.equal(res.statusCode, 204, q);
    }
    const stored = (await all(f)).filter((r) => r.name === 'alias');
    assert.deepEqual(
      stored.map((r) => [r.cluster, r.payload]),
      [
        ['alias', 'cluster=alias'],
        ['alias', 'db=alias&cluster=alias'],
      ],
    );
  });

  it('refuses ?db= and ?cluster= naming different clusters, storing nothing', async () => {
    const res = await post(f, '/write?db=one&cluster=two', 'twice event="x" 1');
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      error:
        'db "one" and cluster "two" name different clusters; ' +
        'cluster is another name for db here, so give one of them',
      code: 'CCES_ERR_QUERY_INVALID',
    });
    assert.deepEqual(
      (await all(f)).filter((r) => r.name === 'twice'),
      [],
    );
  });

  it('answers /ping with 204', async () => {
    const res = await f.app.inject({ url: '/ping' });
    assert.equal(res.statusCode, 204);
    assert.equal(res.headers['x-influxdb-version'], '1.8-cces');
  });
});

describe('write failures', () => {
  it('answers 503 with Retry-After while the write queue is full', async () => {
    let entered!: () => void;
    let release!: () => void;
    const inStorage = new Promise<void>((r) => (entered = r));
    const held = new Promise<void>((r) => (release = r));
    const f = await makeApi({
      maxQueue: 1,
      holdWrites: () => {
        entered();
        return held;
      },
    });
    try {
      const first = post(f, '/api/write', readSample('job-events.lp'));
      await inStorage;
      const refused = await post(f, '/api/write', 'x,cluster=c event="y" 1');
      assert.equal(refused.statusCode, 503);
      assert.match(String(refused.headers['retry-after']), /^[1-9][0-9]*$/);
      assert.equal(refused.json().code, 'CCES_ERR_INGEST_OVERLOADED');
      const influx = await post(f, '/write?db=c', 'x event="y" 1');
      assert.equal(influx.statusCode, 503);
      assert.equal(influx.json().code, 'CCES_ERR_INGEST_OVERLOADED');

      release();
      assert.equal((await first).statusCode, 204);
      assert.equal((await all(f)).length, 9);
      // The queue was full: both inputs were refused before they were read.
      assert.deepEqual(
        ['refused_unread', 'refused'].map((c) => f.stats.get('api', c)),
        [2, 0],
      );
    } finally {
      release();
      await f.close();
    }
  });

  it('answers 503 after the storage manager closed', async () => {
    const f = await makeApi();
    try {
      await f.manager.close();
      const res = await post(f, '/api/write', 'x,cluster=c event="y" 1');
      assert.equal(res.statusCode, 503);
      assert.equal(res.headers['retry-after'], '5');
      assert.equal(res.json().code, 'CCES_ERR_INGEST_CLOSED');
    } finally {
      await f.close();
    }
  });

  it(
    'holds a write while the database is read-only, answers others 503, commits it after',
    { timeout: 10_000 },
    async () => {
      // query_only acts on one connection, so the writes stay on the main one here; a
      // read-only file under the writer thread is in test/hardening/storage-faults.test.ts.
      const f = await makeApi({ maxQueue: 1, sqlite: { writer_thread: false } });
      try {
        const db = (f.storage as SqliteStorage).database;
        db.pragma('query_only = ON');
        const held = post(f, '/api/write', 'x,cluster=c event="y" 1');
        while (f.stats.get('storage', 'unavailable') === 0) await new Promise(setImmediate);
        assert.equal((await f.app.inject({ url: '/readyz' })).statusCode, 503);
        const refused = await post(f, '/api/write', 'x,cluster=c event="z" 2');
        assert.equal(refused.statusCode, 503);
        assert.equal(refused.headers['retry-after'], '5');
        assert.match(refused.json().message, /^the storage is unavailable and 1 records are held/);

        db.pragma('query_only = OFF');
        assert.equal((await held).statusCode, 204);
        assert.equal((await f.app.inject({ url: '/readyz' })).statusCode, 200);
        assert.equal((await all(f)).length, 1);
      } finally {
        await f.close();
      }
    },
  );
});
