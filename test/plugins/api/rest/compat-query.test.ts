import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { answer } from '../../../../plugins/api/rest/compat-query.ts';
import { makeApi, type ApiFixture } from './fixture.ts';

const INPUT = [
  'job,cluster=alpha,hostname=n1,type=node,type-id=0 event="a0" 1735732800000000000',
  'job,cluster=alpha,hostname=n1,type=node,type-id=1 event="a1" 1735732801000000000',
  'job,cluster=alpha,hostname=n2,type=node,type-id=0 event="a2" 1735732802000000000',
  'job,cluster=alpha,hostname=n1,type=socket,type-id=0,stype=core,stype-id=3 event="s3" 1735732803000000000',
  'job,cluster=alpha,hostname=n1,type=socket,type-id=0,stype=core,stype-id=4 event="s4" 1735732804000000000',
  'note,cluster=alpha,hostname=n1 event="n5" 1735732805500000000',
  'ccb,cluster=alpha,hostname=n1,loglevel=info log="l6" 1735732806000000000',
  'job,cluster=beta,hostname=n1,type=node,type-id=0 event="b7" 1735732807000000000',
].join('\n');

interface Entry {
  Event: string;
  timestamp: number;
  time: string;
  name: string;
  kind: string;
  tags: Record<string, string>;
}

const entry = (
  Event: string,
  ns: bigint,
  name: string,
  tags: Record<string, string>,
  kind = 'event',
): Entry => ({
  Event,
  timestamp: Number(ns / 1_000_000_000n),
  time: String(ns),
  name,
  kind,
  tags,
});

const node = (host: string, id: string) => ({ hostname: host, type: 'node', 'type-id': id });
const A0 = entry('a0', 1735732800000000000n, 'job', node('n1', '0'));
const A1 = entry('a1', 1735732801000000000n, 'job', node('n1', '1'));
const A2 = entry('a2', 1735732802000000000n, 'job', node('n2', '0'));
const socket = (id: string) => ({
  hostname: 'n1',
  type: 'socket',
  'type-id': '0',
  stype: 'core',
  'stype-id': id,
});
const S3 = entry('s3', 1735732803000000000n, 'job', socket('3'));
const S4 = entry('s4', 1735732804000000000n, 'job', socket('4'));
const N5 = entry('n5', 1735732805500000000n, 'note', { hostname: 'n1' });
const L6 = entry('l6', 1735732806000000000n, 'ccb', { hostname: 'n1', loglevel: 'info' }, 'log');

describe('GET and POST /api/query/ (the original query contract)', () => {
  let f: ApiFixture;
  const query = (body: unknown, method: 'GET' | 'POST' = 'POST', headers = {}) =>
    f.app.inject({ method, url: '/api/query/', payload: JSON.stringify(body), headers });

  before(async () => {
    f = await makeApi();
    const res = await f.app.inject({ method: 'POST', url: '/api/write', payload: INPUT });
    assert.equal(res.statusCode, 204);
  });
  after(() => f.close());

  it('answers no results for no queries', async () => {
    const res = await query({ cluster: 'alpha' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { results: [] });
  });

  it('answers one block per type-id, with inclusive from and to', async () => {
    const q = { event: 'job', host: 'n1', type: 'node', 'type-ids': ['0', '1'] };
    const res = await query({ cluster: 'alpha', from: 1735732800, to: 1735732801, queries: [q] });
    assert.deepEqual(res.json(), {
      results: [
        [
          { from: 1735732800, to: 1735732801, data: [A0] },
          { from: 1735732800, to: 1735732801, data: [A1] },
        ],
      ],
    });
  });

  it('answers a query without filters with every event and log of the cluster, oldest first', async () => {
    const res = await query({ cluster: 'alpha', queries: [{}] });
    assert.deepEqual(res.json(), {
      results: [[{ from: 0, to: 0, data: [A0, A1, A2, S3, S4, N5, L6] }]],
    });
  });

  it('filters by subtype and subtype-ids, and accepts null fields as the Go client sends them', async () => {
    const q = {
      event: 'job',
      host: 'n1',
      type: 'socket',
      subtype: 'core',
      'type-ids': ['0'],
      'subtype-ids': ['4'],
    };
    const nulls = { event: 'job', host: 'n2', type: null, subtype: null, 'subtype-ids': null };
    const res = await query({ cluster: 'alpha', queries: [q, nulls] });
    assert.deepEqual(res.json(), {
      results: [[{ from: 0, to: 0, data: [S4] }], [{ from: 0, to: 0, data: [A2] }]],
    });
  });

  it('counts a fractional event time in its whole second, as the original stored seconds', async () => {
    const res = await query({ cluster: 'alpha', from: 1735732805, to: 1735732805, queries: [{}] });
    assert.deepEqual(res.json().results, [[{ from: 1735732805, to: 1735732805, data: [N5] }]]);
  });

  it('expands for-all-nodes into queries of those names on every host', async () => {
    const res = await query({ cluster: 'alpha', 'for-all-nodes': ['note', 'ccb'] });
    assert.deepEqual(res.json(), {
      queries: [{ event: 'note' }, { event: 'ccb' }],
      results: [[{ from: 0, to: 0, data: [N5] }], [{ from: 0, to: 0, data: [L6] }]],
    });
  });

  it('reads a GET body as JSON whatever its content type', async () => {
    const body = { cluster: 'beta', queries: [{ event: 'job' }] };
    const expected = {
      results: [
        [{ from: 0, to: 0, data: [entry('b7', 1735732807000000000n, 'job', node('n1', '0'))] }],
      ],
    };
    for (const type of ['application/json', 'application/x-www-form-urlencoded', 'text/plain']) {
      const res = await query(body, 'GET', { 'content-type': type });
      assert.equal(res.statusCode, 200, type);
      assert.deepEqual(res.json(), expected, type);
    }
  });

  it('answers 400 naming the path and expected type of a mistake in the queries', async () => {
    const cases: [unknown, string][] = [
      [
        { cluster: 'a', queries: [{ event: 'x', 'type-ids': [1] }] },
        'queries/0/type-ids/0 must be string',
      ],
      [{ cluster: 'a', queries: [{ event: 5 }] }, 'queries/0/event must be string'],
      [{ cluster: 'a', queries: [null] }, 'queries/0 must be object'],
      [{ cluster: 'a', queries: 'x' }, 'queries must be array'],
      [{ cluster: 'a', 'for-all-nodes': [3] }, 'for-all-nodes/0 must be string'],
    ];
    for (const [body, message] of cases) {
      const res = await query(body);
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), { code: 'CCES_ERR_QUERY_INVALID', message: `body/${message}` });
    }
  });

  it('answers 400 naming the path of an unknown key, the known keys and a likely spelling', async () => {
    const top = '"cluster", "from", "to", "queries", "for-all-nodes"';
    const inner = '"event", "host", "type", "subtype", "type-ids", "subtype-ids"';
    const cases: [unknown, string][] = [
      [
        { cluster: 'alpha', queries: [{ evnt: 'ccb' }] },
        `body/queries/0/evnt: unknown key (known: ${inner}); did you mean "event"?`,
      ],
      [
        { cluster: 'alpha', qeries: [{ event: 'ccb' }] },
        `body/qeries: unknown key (known: ${top}); did you mean "queries"?`,
      ],
      [
        { cluster: 'alpha', queries: [{ event: 'ccb' }, { host: 'n1', colour: null }] },
        `body/queries/1/colour: unknown key (known: ${inner})`,
      ],
      [{ cluster: 'alpha', Host: 'n1' }, `body/Host: unknown key (known: ${top})`],
    ];
    for (const [body, message] of cases) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await query(body, method);
        assert.equal(res.statusCode, 400, message);
        assert.deepEqual(res.json(), { code: 'CCES_ERR_QUERY_INVALID', message });
      }
    }
  });

  it('answers 400 when from is after to', async () => {
    const body = { cluster: 'alpha', from: 1735732806, to: 1735732805, queries: [{}] };
    for (const method of ['GET', 'POST'] as const) {
      const res = await query(body, method);
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), {
        code: 'CCES_ERR_QUERY_INVALID',
        message: 'from (1735732806) must not be after to (1735732805)',
      });
    }
  });

  it('answers 400 for more than 1000 blocks, counting type-ids and for-all-nodes', async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i));
    const ok = { cluster: 'alpha', queries: [{ 'type-ids': ids(998) }], 'for-all-nodes': ['a'] };
    const taken = await query({ ...ok, queries: [...ok.queries, {}] });
    assert.equal(taken.statusCode, 200);
    assert.equal(taken.json().results.length, 3);
    const cases: [unknown, number][] = [
      [{ cluster: 'alpha', queries: [{ 'type-ids': ids(40_000) }] }, 40_000],
      [{ ...ok, queries: [...ok.queries, { 'type-ids': ['1', '2'] }] }, 1001],
    ];
    for (const [body, found] of cases) {
      const res = await query(body);
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), {
        code: 'CCES_ERR_QUERY_INVALID',
        message:
          'body: at most 1000 blocks (queries times their type-ids), ' +
          `found ${found}; split the request`,
      });
    }
  });

  it('reads the type-ids of a query at once and splits them into blocks', async () => {
    const q = { event: 'job', 'type-ids': ['1', '0', '7', '1'] };
    const res = await query({ cluster: 'alpha', queries: [q, { type: 'socket' }] });
    const span = { from: 0, to: 0 };
    assert.deepEqual(res.json(), {
      results: [
        [
          { ...span, data: [A1] },
          { ...span, data: [A0, A2, S3, S4] },
          { ...span, data: [] },
          { ...span, data: [A1] },
        ],
        [{ ...span, data: [S3, S4] }],
      ],
    });
  });

  it('stops an answer at its entry limit, the blocks cut short saying so', async () => {
    const req = { cluster: 'alpha', queries: [{ 'type-ids': ['0', '1'] }, { host: 'n1' }, {}] };
    const out = await answer(f.storage, req, { blocks: 10, entries: 4 });
    const span = { from: 0, to: 0 };
    const error = 'more than 4 results in this answer; the blocks are cut short, narrow the query';
    assert.deepEqual(JSON.parse(JSON.stringify(out)), {
      results: [
        [
          { ...span, data: [A0, A2, S3], error },
          { ...span, data: [A1], error },
        ],
        [{ ...span, data: [], error }],
        [{ ...span, data: [], error }],
      ],
    });
    const fits = await answer(
      f.storage,
      { cluster: 'alpha', queries: [{ host: 'n2' }] },
      {
        blocks: 1,
        entries: 1,
      },
    );
    assert.deepEqual(JSON.parse(JSON.stringify(fits)), {
      results: [[{ from: 0, to: 0, data: [A2] }]],
    });
  });

  it('serves other requests while a long answer is read', async () => {
    await f.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = f.app.server.address() as { port: number };
    const url = `http://127.0.0.1:${port}`;
    const storage = f.storage;
    const query = storage.query.bind(storage);
    const done: string[] = [];
    let health: Promise<void> | undefined;
    // The health check is sent once the answer has started reading.
    storage.query = (q) => {
      health ??= fetch(`${url}/healthz`).then((res) => {
        done.push(`healthz ${res.status}`);
      });
      return query(q);
    };
    try {
      const body = JSON.stringify({ cluster: 'alpha', queries: Array(1000).fill({}) });
      const res = await fetch(`${url}/api/query/`, { method: 'POST', body });
      done.push(`query ${res.status}`);
      await health;
    } finally {
      storage.query = query;
    }
    assert.deepEqual(done, ['healthz 200', 'query 200']);
  });

  it('takes null queries and for-all-nodes as not given', async () => {
    const res = await query({ cluster: 'alpha', queries: null, 'for-all-nodes': null });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { results: [] });
  });

  it('answers 400 for a missing cluster, a missing body or a body that is not JSON', async () => {
    const cases: [unknown, string][] = [
      [{ queries: [] }, 'body: "cluster" is required'],
      [{ cluster: 'a', from: 'yesterday' }, 'body/from must be integer'],
    ];
    for (const [body, message] of cases) {
      const res = await query(body);
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json(), { code: 'CCES_ERR_QUERY_INVALID', message });
    }
    const none = await f.app.inject({ method: 'GET', url: '/api/query/' });
    assert.equal(none.statusCode, 400);
    assert.deepEqual(none.json(), {
      code: 'CCES_ERR_QUERY_INVALID',
      message: 'body must be object',
    });
    const bad = await f.app.inject({ method: 'POST', url: '/api/query', payload: '{"cluster":' });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'CCES_ERR_QUERY_INVALID');
  });
});
