/**
 * `GET /api/v1/export` on DuckDB: a time range as CSV and Parquet from DuckDB's writers, the
 * temp file gone afterwards; 501 on backends without the ability.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HttpApp } from '../../../../plugins/shared/http/app.ts';
import { apiOver, backends, recordsOf, writeAll, type OpenedStorage } from './backends.ts';

const all = await backends();
const LINES = [1, 2, 3, 4]
  .map((i) => `ev,cluster=c1,hostname=node00${i} event="e${i}, \\"q\\"" ${1735732800 + i}000000000`)
  .join('\n');

describe('export route', () => {
  let opened: OpenedStorage;
  let app: HttpApp;
  before(async () => {
    opened = await all.find((b) => b.name === 'duckdb')!.open();
    await writeAll(opened.storage, recordsOf(LINES));
    app = await apiOver(opened.storage);
  });
  after(async () => {
    await app?.close();
    await opened?.close();
  });

  test("CSV of a time range, oldest first, from DuckDB's writer", async () => {
    const res = await app.inject({
      method: 'GET',
      url: '/api/v1/export?format=csv&from=1735732802&to=1735732804',
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
    const lines = res.body.trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^time,received_at,cluster,name,hostname,/);
    assert.match(lines[1]!, /^1735732802000000000,1,c1,ev,node002,/);
    assert.match(lines[2]!, /^1735732803000000000,1,c1,ev,node003,/);
  });

  test('Parquet that DuckDB reads back exactly; the temp file is removed', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/v1/export?kind=event' });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.rawPayload.subarray(0, 4).toString(), 'PAR1');
    const check = await DuckDBInstance.create(':memory:');
    const conn = await check.connect();
    const file = join(opened.dir!, 'back.parquet');
    writeFileSync(file, res.rawPayload);
    const rows = (
      await conn.runAndReadAll(`SELECT time, hostname, payload FROM '${file}' ORDER BY time`)
    ).getRows();
    conn.closeSync();
    check.closeSync();
    assert.deepEqual(
      rows.map((r) => [r[0], r[1]]),
      [
        [1735732801000000000n, 'node001'],
        [1735732802000000000n, 'node002'],
        [1735732803000000000n, 'node003'],
        [1735732804000000000n, 'node004'],
      ],
    );
    assert.equal(rows[0]![2], 'e1, "q"');
    assert.deepEqual(await leftovers(), []);
  });

  test('refuses a range whose from is after its to with 400', async () => {
    const res = await app.inject({ url: '/api/v1/export?from=1735732804&to=1735732802' });
    assert.equal(res.statusCode, 400);
    assert.deepEqual(res.json(), {
      code: 'CCES_ERR_QUERY_INVALID',
      message: 'from (1735732804) must not be after to (1735732802)',
    });
  });

  test('other backends answer 501', async () => {
    const lite = await all.find((b) => b.name === 'sqlite')!.open();
    const liteApp = await apiOver(lite.storage);
    try {
      const res = await liteApp.inject({ method: 'GET', url: '/api/v1/export?format=csv' });
      assert.equal(res.statusCode, 501);
      assert.equal(res.json().code, 'CCES_ERR_STORAGE_UNSUPPORTED');
    } finally {
      await liteApp.close();
      await lite.close();
    }
  });
});

// Files left in export folders (each process hardens its instance with one folder).
async function leftovers(): Promise<string[]> {
  for (let i = 0; ; i++) {
    const found = readdirSync(tmpdir())
      .filter((d) => d.startsWith('cces-duckdb-export-'))
      .flatMap((d) => readdirSync(join(tmpdir(), d)));
    // The read stream closes (and removes the file) just after the answer's last byte.
    if (found.length === 0 || i > 100) return found;
    await new Promise((r) => setImmediate(r));
  }
}
