import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { EventRecord } from '../../../core/record.ts';
import { recordKey } from '../../../core/record.ts';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbStorage } from '../../../plugins/storage/duckdb/duckdb-storage.ts';
import { SCHEMA_VERSION } from '../../../plugins/storage/duckdb/schema.ts';

const logger = pino({ level: 'silent' });
const T0 = 1_735_732_800_000_000_000n;

/** A typical job event, `i` seconds after T0. */
function rec(i: number): EventRecord {
  const r: Omit<EventRecord, 'key'> = {
    kind: 'event',
    cluster: 'testcluster',
    name: i % 2 ? 'start_job' : 'stop_job',
    time: T0 + BigInt(i) * 1_000_000_000n,
    receivedAt: T0,
    tags: { hostname: `node${i % 64}`, type: 'node', 'type-id': '0' },
    payload: `{"jobId":${i},"cluster":"testcluster","user":"user001"}`,
    jobId: String(i),
  };
  return { ...r, key: recordKey(r) };
}

describe('DuckDbStorage durability', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cces-duckdb-dur-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the same data and ids after close and reopen, and keeps ids increasing', async () => {
    const path = join(dir, 'reopen', 'db.duckdb');
    const first = new DuckDbStorage({ path, logger });
    await first.open();
    await first.write([rec(1), rec(2), rec(3)]);
    await first.writeRejected([
      {
        raw: 'bad line',
        reason: 'syntax',
        source: 'api:write',
        line: 3,
        column: 7,
        receivedAt: T0,
      },
    ]);
    const before = await first.query({ kind: 'event', order: 'asc', limit: 10 });
    const closing = first.close();
    assert.equal(first.close(), closing);
    await closing;
    await assert.rejects(first.query({ kind: 'event', order: 'asc', limit: 1 }), {
      code: 'CCES_ERR_STORAGE_UNAVAILABLE',
    });

    const second = new DuckDbStorage({ path, logger });
    await second.open();
    assert.deepEqual(await second.query({ kind: 'event', order: 'asc', limit: 10 }), before);
    const out = await second.write([rec(3), rec(4)]);
    assert.deepEqual(
      out.map((o) => o.status),
      ['duplicate', 'stored'],
    );
    const all = await second.query({ kind: 'event', order: 'asc', limit: 10 });
    assert.deepEqual(
      all.records.map((r) => r.id),
      [1n, 2n, 3n, 4n],
    );
    assert.deepEqual(await second.listRejected(10), [
      {
        id: 1n,
        raw: 'bad line',
        reason: 'syntax',
        source: 'api:write',
        line: 3,
        column: 7,
        receivedAt: T0,
      },
    ]);
    await second.close();
  });

  it('keeps every acknowledged batch when the process is killed with SIGKILL', async () => {
    const path = join(dir, 'kill', 'db.duckdb');
    const writer = fileURLToPath(new URL('./fixtures/duckdb-kill-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path, '5000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    let out = '';
    child.stdout.setEncoding('utf8');
    for await (const chunk of child.stdout) {
      out += chunk;
      if (out.includes('committed 5000\n')) break;
    }
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    assert.ok(out.includes('committed 5000\n'), `writer stopped early: ${out}${err}`);

    const s = new DuckDbStorage({ path, logger });
    await s.open();
    assert.equal((await s.stats()).events, 5000);
    const newest = await s.query({ kind: 'event', order: 'desc', limit: 1 });
    assert.equal(newest.records[0]!.payload, 'p4999');
    await s.close();
  });

  it('records the schema version and refuses a database of a newer version', async () => {
    const path = join(dir, 'schema', 'db.duckdb');
    const s = new DuckDbStorage({ path, logger });
    await s.open();
    await s.close();

    const instance = await DuckDBInstance.create(path);
    const conn = await instance.connect();
    const rows = (await conn.runAndReadAll('SELECT version FROM schema_version')).getRows();
    assert.deepEqual(rows, [[SCHEMA_VERSION]]);
    await conn.run('UPDATE schema_version SET version = ?', [SCHEMA_VERSION + 1]);
    conn.closeSync();
    instance.closeSync();

    const newer = new DuckDbStorage({ path, logger });
    await assert.rejects(newer.open(), {
      code: 'CCES_ERR_STORAGE_OPEN',
      message: new RegExp(`version ${SCHEMA_VERSION + 1}, newer than this store knows`),
    });
    await newer.close();
  });

  it('ingests 100k records through the appender and counts them exactly', async () => {
    const s = new DuckDbStorage({ path: join(dir, 'bulk', 'db.duckdb'), logger });
    await s.open();
    const all = Array.from({ length: 100_000 }, (_, i) => rec(i));
    for (let i = 0; i < all.length; i += 10_000) {
      const out = await s.write(all.slice(i, i + 10_000));
      assert.equal(out.filter((o) => o.status === 'stored').length, 10_000);
    }
    assert.equal((await s.stats()).events, 100_000);
    const again = await s.write(all.slice(50_000, 51_000));
    assert.equal(again.filter((o) => o.status === 'duplicate').length, 1000);

    const page = await s.query({ kind: 'event', order: 'desc', limit: 3, hostnames: ['node7'] });
    assert.deepEqual(
      page.records.map((r) => r.jobId),
      ['99975', '99911', '99847'],
    );
    const rest = await s.query({
      kind: 'event',
      order: 'desc',
      limit: 100_000,
      hostnames: ['node7'],
      after: page.next,
    });
    assert.equal(rest.records.length, Math.ceil(100_000 / 64) - 3);
    await s.close();
  });

  it('deletes old records in chunks while queries go on', async () => {
    const s = new DuckDbStorage({ path: join(dir, 'retention', 'db.duckdb'), logger });
    await s.open();
    await s.write(Array.from({ length: 1000 }, (_, i) => rec(i)));
    const cut = rec(700).time;
    const deleted: number[] = [];
    for (;;) {
      const [n] = await Promise.all([s.deleteBefore('event', cut, 300), s.stats()]);
      deleted.push(n);
      if (n < 300) break;
    }
    assert.deepEqual(deleted, [300, 300, 100]);
    const left = await s.query({ kind: 'event', order: 'asc', limit: 1 });
    assert.equal(left.records[0]!.time, cut);
    assert.equal((await s.stats()).events, 300);
    assert.equal(await s.deleteBefore('log', cut, 300), 0);
    await s.close();
  });

  it('prunes rejected input by count and by age, newest kept', async () => {
    const s = new DuckDbStorage({ path: join(dir, 'rejected', 'db.duckdb'), logger });
    await s.open();
    const items = Array.from({ length: 5 }, (_, i) => ({
      raw: `line ${i}`,
      reason: 'syntax',
      source: 'receiver:http',
      receivedAt: T0 + BigInt(i),
    }));
    await s.writeRejected(items);
    assert.deepEqual(
      (await s.listRejected(2, 4n)).map((r) => r.raw),
      ['line 2', 'line 1'],
    );
    assert.equal(await s.pruneRejected(3, 0n), 2);
    assert.equal(await s.pruneRejected(10, T0 + 3n), 1);
    assert.deepEqual(
      (await s.listRejected(10)).map((r) => r.id),
      [5n, 4n],
    );
    assert.equal(await s.pruneRejected(0, 0n), 2);
    assert.equal((await s.stats()).rejected, 0);
    await s.close();
  });
});
