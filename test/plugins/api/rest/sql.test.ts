/**
 * `POST /api/v1/sql` on DuckDB: admin only, off by default, one read-only SELECT with row
 * and time limits; writes, attaches, installs, settings, copies and file reads refused.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import type { HttpApp } from '../../../../plugins/shared/http/app.ts';
import { apiOver, backends, recordsOf, writeAll, type OpenedStorage } from './backends.ts';

const all = await backends();
const duckdb = all.find((b) => b.name === 'duckdb')!;
const sqlite = all.find((b) => b.name === 'sqlite')!;

const LINES = [1, 2, 3, 4, 5]
  .map((i) => `ev,cluster=c1,hostname=node00${i} event="e${i}" ${i}000000000`)
  .join('\n');

describe('SQL route', () => {
  let opened: OpenedStorage;
  let app: HttpApp;
  let off: HttpApp;
  let key: CryptoKey;
  before(async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    key = pair.privateKey;
    const jwk = await exportJWK(pair.publicKey);
    const jwtPublicKey = Buffer.from(jwk.x!, 'base64url').toString('base64');
    opened = await duckdb.open();
    await writeAll(opened.storage, recordsOf(LINES));
    app = await apiOver(opened.storage, { jwtPublicKey, enableSql: true });
    off = await apiOver(opened.storage, { jwtPublicKey });
  });
  after(async () => {
    await app?.close();
    await off?.close();
    await opened?.close();
  });

  const token = (roles?: string[]) =>
    new SignJWT(roles ? { roles } : {}).setProtectedHeader({ alg: 'EdDSA' }).sign(key);
  const post = async (body: object, roles: string[] | null = ['admin'], on = app) =>
    on.inject({
      method: 'POST',
      url: '/api/v1/sql',
      headers: { authorization: `Bearer ${await token(roles ?? undefined)}` },
      payload: body,
    });
  const refusedWith = async (query: string, code = 'CCES_ERR_SQL_REFUSED') => {
    const res = await post({ query });
    assert.equal(
      res.statusCode,
      code === 'CCES_ERR_SQL_REFUSED' ? 400 : 503,
      `${query}: ${res.body}`,
    );
    assert.equal(res.json().code, code, query);
  };

  test('an admin reads events with a row limit', async () => {
    const res = await post({
      query: 'SELECT hostname, time FROM events ORDER BY time',
      max_rows: 3,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json(), {
      columns: [
        { name: 'hostname', type: 'VARCHAR' },
        { name: 'time', type: 'BIGINT' },
      ],
      rows: [
        ['node001', '1000000000000000000'],
        ['node002', '2000000000000000000'],
        ['node003', '3000000000000000000'],
      ],
      truncated: true,
    });
    const all5 = await post({ query: 'SELECT count(*) AS n FROM events' });
    assert.deepEqual(all5.json().rows, [['5']]);
  });

  test('other roles, no roles and no token are refused', async () => {
    assert.equal((await post({ query: 'SELECT 1' }, ['api'])).statusCode, 403);
    assert.equal((await post({ query: 'SELECT 1' }, null)).statusCode, 403);
    const none = await app.inject({
      method: 'POST',
      url: '/api/v1/sql',
      payload: { query: 'SELECT 1' },
    });
    assert.equal(none.statusCode, 401);
  });

  test('off by default, and on other backends', async () => {
    const res = await post({ query: 'SELECT 1' }, ['admin'], off);
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'CCES_ERR_SQL_DISABLED');
    const lite = await sqlite.open();
    const liteApp = await apiOver(lite.storage, { enableSql: true });
    try {
      const r = await liteApp.inject({
        method: 'POST',
        url: '/api/v1/sql',
        payload: { query: 'SELECT 1' },
      });
      assert.equal(r.json().code, 'CCES_ERR_SQL_DISABLED');
    } finally {
      await liteApp.close();
      await lite.close();
    }
  });

  const postText = async (payload: string, contentType: string, on = app) =>
    on.inject({
      method: 'POST',
      url: '/api/v1/sql',
      headers: { authorization: `Bearer ${await token(['admin'])}`, 'content-type': contentType },
      payload,
    });
  const ONE = JSON.stringify({ query: 'SELECT 1 AS one' });

  test('the body is read as JSON whatever its content type', async () => {
    const answer = { columns: [{ name: 'one', type: 'INTEGER' }], rows: [[1]], truncated: false };
    for (const type of ['application/x-www-form-urlencoded', 'text/plain', 'application/json']) {
      const res = await postText(ONE, type);
      assert.equal(res.statusCode, 200, `${type}: ${res.body}`);
      assert.deepEqual(res.json(), answer, type);
    }
    const broken = await postText('query=SELECT+1', 'application/x-www-form-urlencoded');
    assert.equal(broken.statusCode, 400);
    assert.deepEqual(broken.json(), {
      code: 'CCES_ERR_QUERY_INVALID',
      message: `the body is not JSON: Unexpected token 'q', "query=SELECT+1" is not valid JSON`,
    });
  });

  test('off, the route answers 404 whatever the body and its content type', async () => {
    const disabled = {
      code: 'CCES_ERR_SQL_DISABLED',
      message: 'SQL is off; set "enable_sql": true in the API config',
    };
    for (const [body, type] of [
      [ONE, 'application/x-www-form-urlencoded'],
      [ONE, 'text/plain'],
      ['not json', 'application/json'],
      ['{"max_rows": 0}', 'application/json'],
    ] as const) {
      const res = await postText(body, type, off);
      assert.equal(res.statusCode, 404, `${type} ${body}: ${res.body}`);
      assert.deepEqual(res.json(), disabled, `${type} ${body}`);
    }
  });

  test('enabled without a jwt_public_key answers 403 saying that the key is missing', async () => {
    const open = await apiOver(opened.storage, { enableSql: true });
    try {
      const res = await open.inject({
        method: 'POST',
        url: '/api/v1/sql',
        payload: { query: 'SELECT 1' },
      });
      assert.equal(res.statusCode, 403);
      assert.deepEqual(res.json(), {
        code: 'CCES_ERR_AUTH_FORBIDDEN',
        message:
          'SQL is enabled, but needs a jwt_public_key in the API config: without one, no token ' +
          'can carry the admin role',
      });
    } finally {
      await open.close();
    }
  });

  test('writes and schema changes are refused and change nothing', async () => {
    await refusedWith('DELETE FROM events');
    await refusedWith('INSERT INTO events SELECT * FROM events');
    await refusedWith("UPDATE events SET name = 'x'");
    await refusedWith('DROP TABLE events');
    await refusedWith('CREATE TABLE t AS SELECT 1');
    await refusedWith('SELECT 1; DELETE FROM events');
    const n = await post({ query: 'SELECT count(*) FROM events' });
    assert.deepEqual(n.json().rows, [['5']]);
  });

  test('attach, install, load, set, pragma settings, copy and export are refused', async () => {
    await refusedWith("ATTACH '/tmp/other.duckdb' AS o");
    await refusedWith('INSTALL httpfs');
    await refusedWith('LOAD httpfs');
    await refusedWith('SET enable_external_access = true');
    await refusedWith('PRAGMA threads=1');
    await refusedWith('CALL pragma_version()');
    const target = join(opened.dir!, 'stolen.csv');
    await refusedWith(`COPY events TO '${target}'`);
    await refusedWith(`COPY (SELECT * FROM events) TO '${target}'`);
    await refusedWith(`EXPORT DATABASE '${opened.dir}/dump'`);
    assert.equal(existsSync(target), false);
  });

  test('reading files is refused: functions, globs and paths', async () => {
    const file = join(opened.dir!, 'secret.csv');
    writeFileSync(file, 'a,b\n1,2\n');
    await refusedWith(`SELECT * FROM read_csv('${file}')`);
    await refusedWith(`SELECT * FROM read_csv_auto('${file}')`);
    await refusedWith(`SELECT * FROM read_parquet('${file}')`);
    await refusedWith(`SELECT * FROM read_json('${file}')`);
    await refusedWith(`SELECT * FROM read_text('${file}')`);
    await refusedWith(`SELECT * FROM glob('${opened.dir}/*')`);
    await refusedWith(`SELECT * FROM '${file}'`);
    await refusedWith(`SELECT * FROM "${file}"`);
    await refusedWith("SELECT * FROM query('SELECT 1')");
  });

  test('a query over the time limit is interrupted', async () => {
    const res = await post({
      query:
        'SELECT count(*) FROM range(10000000000) a, range(1000) b WHERE a.range + b.range = -1',
      timeout_ms: 300,
    });
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json().code, 'CCES_ERR_SQL_TIMEOUT');
  });
});
