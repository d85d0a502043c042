import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { pino } from 'pino';
import type { ApiExtensionOptions } from '../../../../core/contracts/api.ts';
import restPlugin from '../../../../plugins/api/rest/index.ts';
import { createAuthenticator } from '../../../../plugins/api/rest/auth.ts';
import { makeApi, type ApiFixture } from './fixture.ts';

const PROTECTED = [
  ['POST', '/api/write'],
  ['POST', '/api/write/'],
  ['POST', '/write?db=c'],
  ['GET', '/api/v1/events'],
  ['GET', '/api/v1/logs'],
  ['GET', '/api/v1/rejected'],
  ['GET', '/api/stats/'],
  ['POST', '/api/query/'],
  ['GET', '/api/v1/site'],
] as const;

const QUERY_BODY = JSON.stringify({ cluster: 'c' });
const WRITE_BODY = 'auth,cluster=c event="x" 1';

async function rawPublicKey(key: CryptoKey): Promise<string> {
  const jwk = await exportJWK(key);
  return Buffer.from(jwk.x!, 'base64url').toString('base64');
}

describe('JWT authentication', () => {
  let f: ApiFixture;
  let privateKey: CryptoKey;
  let publicB64: string;
  let otherKey: CryptoKey;
  const lines: string[] = [];

  const sign = (claims: Record<string, unknown> = {}, key = privateKey) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).setIssuedAt().sign(key);

  const request = (method: string, url: string, headers: Record<string, string> = {}) => {
    const body = url.includes('write') ? WRITE_BODY : QUERY_BODY;
    return f.app.inject({
      method: method as 'GET',
      url,
      headers,
      payload: method === 'POST' ? body : undefined,
    });
  };

  before(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    privateKey = pair.privateKey;
    publicB64 = await rawPublicKey(pair.publicKey);
    otherKey = (await generateKeyPair('EdDSA', { crv: 'Ed25519' })).privateKey;
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const site = fp(async (app: FastifyInstance, opts: ApiExtensionOptions) => {
      app.get('/api/v1/site', {
        onRequest: async (request: FastifyRequest) => opts.authenticate(request),
        handler: async () => ({ ok: true }),
      });
    });
    f = await makeApi({
      jwtPublicKey: publicB64,
      logger: pino({ level: 'trace' }, sink),
      extensions: [{ name: 'site', plugin: site, config: {} }],
    });
  });
  after(() => f.close());

  it('answers 401 without a token on every /api and /write route', async () => {
    for (const [method, url] of PROTECTED) {
      const res = await request(method, url);
      assert.equal(res.statusCode, 401, url);
      assert.equal(res.headers['www-authenticate'], 'Bearer');
      const body = res.json();
      if (url.startsWith('/write')) assert.equal(body.code, 'CCES_ERR_AUTH_MISSING');
      else {
        assert.deepEqual(body, {
          code: 'CCES_ERR_AUTH_MISSING',
          message:
            'this route needs a JWT in "Authorization: Bearer <token>" or "X-Auth-Token: <token>"',
        });
      }
    }
  });

  it('lets a valid token through in Authorization or X-Auth-Token', async () => {
    const token = await sign();
    for (const [method, url] of PROTECTED) {
      const res = await request(method, url, { authorization: `Bearer ${token}` });
      assert.ok([200, 204].includes(res.statusCode), `${url}: ${res.statusCode} ${res.body}`);
    }
    const res = await request('GET', '/api/v1/events', { 'x-auth-token': token });
    assert.equal(res.statusCode, 200);
  });

  it('keeps /healthz and /readyz open', async () => {
    assert.equal((await request('GET', '/healthz')).statusCode, 200);
    assert.equal((await request('GET', '/readyz')).statusCode, 200);
  });

  it('answers 401 with a message saying an expired token expired', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setExpirationTime(1_700_000_000)
      .sign(privateKey);
    const res = await request('GET', '/api/v1/events', { authorization: `Bearer ${token}` });
    assert.equal(res.statusCode, 401);
    assert.deepEqual(res.json(), {
      code: 'CCES_ERR_AUTH_EXPIRED',
      message: 'the token expired at 2023-11-14T22:13:20.000Z; get a new one',
    });
  });

  it('refuses alg none, HS256 signed with the public key, a wrong key and garbage', async () => {
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'x' })}.`;
    const hs256 = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .sign(Buffer.from(publicB64, 'base64'));
    const hsText = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(publicB64));
    const wrongKey = await sign({}, otherKey);
    for (const token of [none, hs256, hsText, wrongKey, 'garbage', 'a.b.c']) {
      const res = await request('GET', '/api/v1/events', { authorization: `Bearer ${token}` });
      assert.equal(res.statusCode, 401, token);
      assert.equal(res.json().code, 'CCES_ERR_AUTH_INVALID');
    }
  });

  it('answers 401 invalid, not missing, to a Bearer header with more than one token', async () => {
    const token = await sign();
    for (const [header, words] of [
      [`Bearer ${token} garbage`, 2],
      [`Bearer ${token} ${token} x`, 3],
    ] as const) {
      const res = await request('GET', '/api/v1/events', { authorization: header });
      assert.equal(res.statusCode, 401, header);
      assert.equal(res.headers['www-authenticate'], 'Bearer');
      assert.deepEqual(res.json(), {
        code: 'CCES_ERR_AUTH_INVALID',
        message:
          `the Authorization header is malformed: it holds ${words} words after "Bearer", ` +
          'where one token is expected ("Authorization: Bearer <token>")',
      });
    }
  });

  it('answers 403 for a token whose roles hold neither api nor admin', async () => {
    const user = await sign({ roles: ['user'] });
    const res = await request('GET', '/api/v1/events', { authorization: `Bearer ${user}` });
    assert.equal(res.statusCode, 403);
    assert.deepEqual(res.json(), {
      code: 'CCES_ERR_AUTH_FORBIDDEN',
      message: 'the token is valid but has neither the "api" nor the "admin" role',
    });
    const api = await sign({ roles: ['user', 'api'] });
    const ok = await request('GET', '/api/v1/events', { authorization: `Bearer ${api}` });
    assert.equal(ok.statusCode, 200);
  });

  it('answers 403 for a token whose roles claim is not a list', async () => {
    for (const roles of ['api', null, { api: true }, 1]) {
      const token = await sign({ roles });
      const res = await request('GET', '/api/v1/events', { authorization: `Bearer ${token}` });
      assert.equal(res.statusCode, 403, JSON.stringify(roles));
      assert.deepEqual(res.json(), {
        code: 'CCES_ERR_AUTH_FORBIDDEN',
        message: 'the token is valid but its "roles" claim is not a list of role names',
      });
    }
  });

  it('writes no token into the log, even at trace level', async () => {
    const token = await sign();
    await request('GET', '/api/v1/events', { authorization: `Bearer ${token}` });
    await request('GET', '/api/nope', { authorization: `Bearer ${token}` });
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setExpirationTime(1)
      .sign(privateKey);
    await request('GET', '/api/v1/events', { 'x-auth-token': expired });
    const signature = token.split('.')[2]!;
    assert.ok(!lines.some((l) => l.includes(signature) || l.includes(expired.split('.')[2]!)));
  });
});

describe('jwt_public_key', () => {
  it('refuses keys that are not the base64 of 32 bytes, naming the config key', async () => {
    for (const [key, found] of [
      ['not base64!', 'text that is not base64'],
      [Buffer.alloc(31, 1).toString('base64'), '31 bytes'],
      [
        Buffer.alloc(32, 1).toString('base64url').replace(/=+$/, '') + '-_',
        'text that is not base64',
      ],
    ]) {
      await assert.rejects(createAuthenticator(key!), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CCES_ERR_AUTH_KEY_INVALID');
        assert.equal(
          err.message,
          'jwt_public_key is not a usable Ed25519 public key: expected the standard base64 of 32 ' +
            `raw bytes (44 characters), found ${found}`,
        );
        return true;
      });
    }
  });

  it('stops the plugin factory with CCES_ERR_AUTH_KEY_INVALID', async () => {
    const ctx = { name: 'api', logger: pino({ level: 'silent' }), configDir: '/' };
    await assert.rejects(
      async () => restPlugin.create({ jwt_public_key: 'AAAA' }, ctx),
      (err: Error & { code?: string }) => err.code === 'CCES_ERR_AUTH_KEY_INVALID',
    );
  });

  it('treats an empty key as an open API', async () => {
    const auth = await createAuthenticator('');
    assert.equal(auth.enabled, false);
  });
});
