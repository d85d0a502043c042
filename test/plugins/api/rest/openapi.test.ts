import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair } from 'jose';
import { RecordQuerySchema } from '../../../../plugins/api/rest/record-query.ts';
import { StreamQuerySchema } from '../../../../plugins/api/rest/stream.ts';
import { makeApi, type ApiFixture } from './fixture.ts';

/** Routes of the core API; other modules (site or analytics routes) may add more. */
const ROUTES = [
  'get /api/v1/events',
  'get /api/v1/logs',
  'get /api/v1/events/stream',
  'get /api/v1/logs/stream',
  'get /api/v1/rejected',
  'get /api/stats',
  'get /api/query',
  'post /api/query',
  'post /api/write',
  'post /write',
  'get /healthz',
  'get /readyz',
  'get /ping',
];

/** Served but left out of the document: the document itself, metrics, the page. */
const HIDDEN = /^\/(api\/openapi\.json|metrics|ui|swagger)/;

/** Every `method path` the app answers (HEAD aside), read from fastify's route tree. */
function appRoutes(app: ApiFixture['app']): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const url = (stack[depth - 1] ?? '') + m[2]!;
    stack[depth] = url;
    const path = url.replace(/:(\w+)/g, '{$1}');
    for (const method of m[3]!.split(', ')) {
      if (method !== 'HEAD' && !HIDDEN.test(path)) out.push(`${method.toLowerCase()} ${path}`);
    }
  }
  return out;
}

type Operation = { parameters?: { in: string; name: string }[]; security?: unknown };

function operations(spec: { paths: Record<string, Record<string, Operation>> }) {
  const out = new Map<string, Operation>();
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) out.set(`${method} ${path}`, op);
  }
  return out;
}

const queryNames = (op: Operation | undefined) =>
  (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);

describe('OpenAPI document', () => {
  let f: ApiFixture;
  let ops: Map<string, Operation>;

  before(async () => {
    f = await makeApi();
    const res = await f.app.inject({ url: '/api/openapi.json' });
    assert.equal(res.statusCode, 200);
    const spec = res.json();
    assert.equal(spec.openapi, '3.0.3');
    assert.equal(spec.info.title, 'cc-event-store');
    ops = operations(spec);
  });
  after(() => f.close());

  it('lists every route exactly once', () => {
    const routes = appRoutes(f.app);
    for (const r of ROUTES) assert.ok(routes.includes(r), r);
    assert.deepEqual([...ops.keys()].sort(), routes.sort());
  });

  it('documents every query parameter of the TypeBox schemas', () => {
    const records = Object.keys(RecordQuerySchema.properties);
    assert.deepEqual(queryNames(ops.get('get /api/v1/events')), records);
    assert.deepEqual(queryNames(ops.get('get /api/v1/logs')), records);
    const stream = Object.keys(StreamQuerySchema.properties);
    assert.deepEqual(queryNames(ops.get('get /api/v1/events/stream')), stream);
    assert.deepEqual(queryNames(ops.get('get /api/v1/rejected')), ['limit', 'cursor']);
    assert.deepEqual(queryNames(ops.get('post /api/write')), ['cluster', 'precision']);
    assert.deepEqual(queryNames(ops.get('post /write')), ['db', 'cluster', 'precision']);
  });

  it('documents request bodies and answers', async () => {
    const res = await f.app.inject({ url: '/api/openapi.json' });
    const post = res.json().paths['/api/query'].post;
    const body = post.requestBody.content['application/json'].schema;
    assert.deepEqual(body.required, ['cluster']);
    assert.ok(post.responses['200']);
    const events = res.json().paths['/api/v1/events'].get;
    const item = events.responses['200'].content['application/json'].schema.properties.items;
    assert.deepEqual(Object.keys(item.items.properties), [
      'name',
      'cluster',
      'tags',
      'payload',
      'extra',
      'time',
      'timestamp',
      'rfc3339',
      'received_at',
    ]);
  });

  it('marks no route as needing a token without auth', () => {
    for (const [key, op] of ops) assert.equal(op.security, undefined, key);
  });

  it('serves no Swagger UI unless enable_swagger_ui is on', async () => {
    assert.equal((await f.app.inject({ url: '/swagger/' })).statusCode, 404);
    assert.equal((await f.app.inject({ url: '/swagger/json' })).statusCode, 404);
  });
});

describe('OpenAPI with auth and Swagger UI', () => {
  let f: ApiFixture;

  before(async () => {
    const { publicKey } = await generateKeyPair('EdDSA');
    const raw = Buffer.from((await exportJWK(publicKey)).x!, 'base64url').toString('base64');
    f = await makeApi({ jwtPublicKey: raw, enableSwaggerUi: true });
  });
  after(() => f.close());

  it('serves the document without a token and marks the guarded routes', async () => {
    const res = await f.app.inject({ url: '/api/openapi.json' });
    assert.equal(res.statusCode, 200);
    const ops = operations(res.json());
    const open = ['get /healthz', 'get /readyz', 'get /ping'];
    for (const [key, op] of ops) {
      const expected = open.includes(key) ? undefined : [{ bearer: [] }, { token: [] }];
      assert.deepEqual(op.security, expected, key);
    }
  });

  it('serves Swagger UI at /swagger/', async () => {
    const res = await f.app.inject({ url: '/swagger/' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/html/);
    assert.match(res.body, /swagger-ui/i);
    const json = await f.app.inject({ url: '/swagger/json' });
    assert.equal(json.statusCode, 200);
    assert.equal(json.json().openapi, '3.0.3');
  });
});
