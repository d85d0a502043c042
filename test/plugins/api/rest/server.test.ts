import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { pino } from 'pino';
import { Compile } from 'typebox/compile';
import type {
  ApiExtension,
  ApiExtensionOptions,
  ApiServer,
} from '../../../../core/contracts/api.ts';
import restPlugin, { RestApiConfigSchema } from '../../../../plugins/api/rest/index.ts';
import { makeApi, type ApiFixture } from './fixture.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

const hello: ApiExtension = {
  name: 'hello',
  config: { greeting: 'hi' },
  plugin: fp(async (app: FastifyInstance, opts: ApiExtensionOptions) => {
    app.get('/api/v1/site/hello', {
      onRequest: async (request: FastifyRequest) => opts.authenticate(request),
      handler: async () => ({
        greeting: opts.config.greeting,
        events: (await opts.storage.stats()).events,
      }),
    });
  }),
};

describe('the rest API plugin', () => {
  let f: ApiFixture;
  const servers: ApiServer[] = [];

  before(async () => (f = await makeApi({ extensions: [hello] })));
  after(async () => {
    for (const s of servers) await s.stop();
    await f.close();
  });

  async function start(config: Record<string, unknown>, logger = pino({ level: 'silent' })) {
    const server = await restPlugin.create(config, { name: 'api', logger, configDir: '/' });
    servers.push(server);
    await server.start({ ...f.ctx, logger });
    const addr = server.address?.();
    assert.ok(addr && addr.port > 0);
    return { server, base: `http://127.0.0.1:${addr.port}` };
  }

  it('listens on the configured address, logs it, and warns once that it is open', async () => {
    const { lines, logger } = capture();
    const { server, base } = await start({ address: '127.0.0.1', port: '0' }, logger);
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 'ok' });

    const port = server.address!()!.port;
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg]),
      [
        [30, `api listening at http://127.0.0.1:${port}`],
        [40, 'API is open: no jwt_public_key'],
      ],
    );
    const stopping = server.stop();
    assert.equal(server.stop(), stopping);
    await stopping;
    await assert.rejects(fetch(`${base}/healthz`));
  });

  it('warns at start when enable_sql is on without a jwt_public_key', async () => {
    const { lines, logger } = capture();
    await start({ address: '127.0.0.1', port: 0, enable_sql: true }, logger);
    assert.deepEqual(
      lines.filter((l) => l.level === 40).map((l) => l.msg),
      [
        'API is open: no jwt_public_key',
        'enable_sql is on, but without jwt_public_key SQL refuses every request',
      ],
    );
  });

  it('registers extensions after the core routes with storage, config and the auth check', async () => {
    const res = await f.app.inject({ url: '/api/v1/site/hello' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { greeting: 'hi', events: 0 });
  });

  it('enforces max_body_size over real HTTP and closes connections without keep-alives', async () => {
    const { base } = await start({ port: 0, max_body_size: '1KiB', keep_alives_enabled: false });
    const big = await fetch(`${base}/api/write`, { method: 'POST', body: 'x'.repeat(2048) });
    assert.equal(big.status, 413);
    assert.deepEqual(await big.json(), {
      code: 'CCES_ERR_HTTP_BODY_TOO_LARGE',
      message: 'the body exceeds max_body_size (1024 bytes)',
    });
    const ok = await fetch(`${base}/api/write`, {
      method: 'POST',
      body: 'k,cluster=c event="x" 1',
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('connection'), 'close');
  });

  it('fails start-up with CCES_ERR_HTTP_LISTEN when the port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const server = await restPlugin.create(
        { port },
        { name: 'api', logger: pino({ level: 'silent' }), configDir: '/' },
      );
      await assert.rejects(server.start(f.ctx), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CCES_ERR_HTTP_LISTEN');
        assert.equal(
          err.message,
          `api cannot listen on 127.0.0.1:${port}: the port is in use; change address or port in its config`,
        );
        return true;
      });
    } finally {
      blocker.close();
    }
  });

  it('has a config schema for the original api.json keys and refuses unknown ones', () => {
    const check = Compile(RestApiConfigSchema);
    const original = {
      address: '127.0.0.1',
      port: '8098',
      jwt_public_key: '',
      enable_swagger_ui: false,
      idle_timeout: '120s',
      keep_alives_enabled: true,
    };
    assert.equal(check.Check(original), true);
    assert.equal(check.Check({ ...original, port: 8098, max_body_size: '64MiB' }), true);
    assert.equal(check.Check({ ...original, max_body_size: 1048576 }), true);
    assert.equal(check.Check({ ...original, prot: 1 }), false);
    assert.equal(check.Check({ ...original, port: 'http' }), false);
    assert.equal(check.Check({ ...original, max_body_size: 'lots' }), false);
  });
});
