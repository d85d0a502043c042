import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Type } from 'typebox';
import { createError } from '../../../../core/errors.ts';
import { createHttpApp, type HttpApp } from '../../../../plugins/shared/http/app.ts';
import { makeApi, type ApiFixture } from '../../api/rest/fixture.ts';

/** A logger at trace that keeps every line it writes. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'trace' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  const at = (level: number) => lines.filter((l) => (l.level as number) >= level);
  return { logger, lines, errors: () => at(50), warnings: () => at(40) };
}

describe('createHttpApp error logging', () => {
  const log = capturedLogger();
  let app: HttpApp;
  before(async () => {
    app = createHttpApp({ logger: log.logger, idleTimeoutMs: 1000, keepAlives: true });
    app.get('/bad', async () => {
      throw createError('CCES_ERR_QUERY_INVALID', 'limit: "lots" is not an integer');
    });
    app.get('/typed', { schema: { querystring: Type.Object({ n: Type.Integer() }) } }, () => 'x');
    app.get('/unsupported', async () => {
      throw createError('CCES_ERR_STORAGE_UNSUPPORTED', 'export needs the duckdb storage');
    });
    app.get('/broken', async () => {
      throw createError('CCES_ERR_STORAGE_QUERY', 'the database failed to answer');
    });
    app.post('/small', { bodyLimit: 10 }, async () => 'ok');
    await app.ready();
  });
  after(() => app.close());

  it('names the limit of a body too large', async () => {
    const payload = { a: 'more than ten' };
    const res = await app.inject({ method: 'POST', url: '/small', payload });
    assert.equal(res.statusCode, 413);
    assert.deepEqual(res.json(), {
      code: 'CCES_ERR_HTTP_BODY_TOO_LARGE',
      message: 'the body exceeds the limit of 10 bytes',
    });
  });

  it('logs 400, 404 and 501 answers at debug only, with their code', async () => {
    const from = log.lines.length;
    const urls = ['/bad', '/typed?n=x', '/nowhere', '/unsupported'];
    const statuses = [];
    for (const url of urls) statuses.push((await app.inject({ url })).statusCode);
    assert.deepEqual(statuses, [400, 400, 404, 501]);
    assert.deepEqual(log.warnings(), []);
    const refused = log.lines.slice(from).filter((l) => l.msg === 'request refused');
    assert.deepEqual(
      refused.map((l) => [l.level, l.status, l.code, l.route]),
      [
        [20, 400, 'CCES_ERR_QUERY_INVALID', '/bad'],
        [20, 400, 'CCES_ERR_QUERY_INVALID', '/typed'],
        [20, 501, 'CCES_ERR_STORAGE_UNSUPPORTED', '/unsupported'],
      ],
    );
  });

  it('logs a 500 once at error with the cause', async () => {
    const before = log.lines.length;
    const res = await app.inject({ url: '/broken' });
    assert.equal(res.statusCode, 500);
    const added = log.lines.slice(before);
    assert.deepEqual(
      added.map((l) => [l.level, l.msg, l.code, l.route]),
      [[50, 'request failed', 'CCES_ERR_STORAGE_QUERY', '/broken']],
    );
    assert.equal((added[0]!.err as { message: string }).message, 'the database failed to answer');
  });
});

describe('REST API error logging', () => {
  const log = capturedLogger();
  let f: ApiFixture;
  before(async () => (f = await makeApi({ logger: log.logger })));
  after(() => f.close());

  it('logs no error or warning for a bad parameter and an export SQLite cannot do', async () => {
    const bad = await f.app.inject({ url: '/api/v1/events?limit=lots' });
    assert.equal(bad.statusCode, 400);
    const exp = await f.app.inject({ url: '/api/v1/export' });
    assert.equal(exp.statusCode, 501);
    assert.equal(exp.json().code, 'CCES_ERR_STORAGE_UNSUPPORTED');
    assert.deepEqual(log.warnings(), []);
  });
});
