import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildRecord, type EventRecord } from '../../../core/record.ts';
import { Uint } from '../../../core/message.ts';
import plugin from '../../../plugins/storage/duckdb/index.ts';
import { DuckDbStorage } from '../../../plugins/storage/duckdb/duckdb-storage.ts';

const logger = pino({ level: 'silent' });
const T0 = 1_735_732_800_000_000_000n;

function rec(
  i: number,
  opts: { kind?: 'event' | 'log'; tags?: Record<string, string>; payload?: string } = {},
): EventRecord {
  const kind = opts.kind ?? 'event';
  const msg = {
    name: `ev${i % 3}`,
    tags: {
      cluster: 'testcluster',
      hostname: `node${String(i % 10).padStart(3, '0')}`,
      ...opts.tags,
    },
    fields: { [kind]: opts.payload ?? `payload ${i}` },
    time: T0 + BigInt(i) * 1_000_000_000n,
  };
  const built = buildRecord(msg, kind, T0);
  assert.ok(built.ok);
  return built.record;
}

describe('DuckDbStorage', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cces-duckdb-'));
  let path: string;
  let storage: DuckDbStorage;
  let n = 0;

  before(async () => {
    path = join(dir, `own-${n++}`, 'events.duckdb');
    storage = new DuckDbStorage({ path, logger, threads: 2 });
    await storage.open();
  });
  after(async () => {
    await storage.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens through the plugin with a path relative to the config folder', async () => {
    const s = await plugin.create(
      { database_path: 'sub/x.duckdb' },
      { name: 'storage', logger, configDir: dir },
    );
    await s.open();
    assert.equal(await s.ready?.(), true);
    assert.deepEqual(await s.stats().then((x) => [x.events, x.logs, x.rejected]), [0, 0, 0]);
    await s.close();
    assert.equal(await s.ready?.(), false);
  });

  it('fails to open, instead of hanging, where the folder cannot be created', async () => {
    // Node's recursive mkdir loops forever here: /proc/nonexistent is ENOENT, /proc EEXIST.
    const s = await plugin.create(
      { database_path: '/proc/nonexistent/x.duckdb' },
      { name: 'storage', logger, configDir: dir },
    );
    await assert.rejects(s.open(), {
      code: 'CCES_ERR_STORAGE_OPEN',
      message:
        'cannot open the DuckDB database /proc/nonexistent/x.duckdb: ' +
        "ENOENT: no such file or directory, mkdir '/proc/nonexistent'",
    });
    await s.close();
  });

  it('stores a batch, marks repeats within and across batches as duplicates', async () => {
    const a = rec(1);
    const b = rec(2);
    const l = rec(3, { kind: 'log', tags: { loglevel: 'WARN' } });
    const out1 = await storage.write([a, b, a, l, l]);
    assert.deepEqual(
      out1.map((o) => o.status),
      ['stored', 'stored', 'duplicate', 'stored', 'duplicate'],
    );
    const out2 = await storage.write([b, rec(4), l]);
    assert.deepEqual(
      out2.map((o) => o.status),
      ['duplicate', 'stored', 'duplicate'],
    );

    const events = await storage.query({ kind: 'event', order: 'asc', limit: 10 });
    assert.deepEqual(
      events.records.map((r) => r.payload),
      ['payload 1', 'payload 2', 'payload 4'],
    );
    assert.deepEqual(
      events.records.map((r) => r.id),
      [1n, 2n, 3n],
    );
    assert.equal(events.next, undefined);
    const logs = await storage.query({ kind: 'log', order: 'asc', limit: 10, loglevels: ['Warn'] });
    assert.equal(logs.records.length, 1);
    const { id, ...back } = logs.records[0]!;
    assert.equal(id, 1n);
    const { extra, jobId, ...expected } = l;
    assert.equal(extra ?? jobId, undefined);
    assert.deepEqual({ ...back, tags: { ...back.tags } }, { ...expected, tags: { ...l.tags } });
  });

  it('stores a record older than the newest and finds an older duplicate', async () => {
    const out1 = await storage.write([rec(1000)]);
    assert.deepEqual(
      out1.map((o) => o.status),
      ['stored'],
    );
    const out2 = await storage.write([rec(999), rec(1000), rec(1), rec(1001)]);
    assert.deepEqual(
      out2.map((o) => o.status),
      ['stored', 'duplicate', 'duplicate', 'stored'],
    );
    const page = await storage.query({ kind: 'event', order: 'desc', limit: 3 });
    assert.deepEqual(
      page.records.map((r) => r.payload),
      ['payload 1001', 'payload 1000', 'payload 999'],
    );
    assert.deepEqual(page.next, { time: rec(999).time, id: page.records[2]!.id });
  });

  it('refuses a time outside 64 bits for that record only', async () => {
    const bad = { ...rec(5), time: 2n ** 63n };
    const out = await storage.write([bad, rec(6)]);
    assert.deepEqual(out, [
      { status: 'rejected', reason: 'time_out_of_range' },
      { status: 'stored' },
    ]);
  });

  it('matches text ASCII-case-insensitively and literally, like SQLite LIKE', async () => {
    const out = await storage.write([
      rec(10, { payload: 'Crème BRÛLÉE 100%_done' }),
      rec(11, { payload: 'crème brûlée 100x done' }),
    ]);
    assert.deepEqual(
      out.map((o) => o.status),
      ['stored', 'stored'],
    );
    const find = async (text: string) =>
      (await storage.query({ kind: 'event', order: 'asc', limit: 10, text })).records.map(
        (r) => r.time,
      );
    assert.deepEqual(await find('CRèME'), [rec(10).time, rec(11).time]);
    assert.deepEqual(await find('CRÈME'), []);
    assert.deepEqual(await find('brûlée'), [rec(11).time]);
    assert.deepEqual(await find('100%_'), [rec(10).time]);
    assert.deepEqual(await find('%'), [rec(10).time]);
  });

  it('filters by any tag, also with quotes, dots and slashes in the key', async () => {
    const tags = { 'a.b/c~"d"': 'v 1', partition: 'batch' };
    await storage.write([rec(20, { tags }), rec(21, { tags: { partition: 'other' } })]);
    const q = async (t: Record<string, string>) =>
      (await storage.query({ kind: 'event', order: 'asc', limit: 10, tags: t })).records.map(
        (r) => r.time,
      );
    assert.deepEqual(await q({ 'a.b/c~"d"': 'v 1' }), [rec(20).time]);
    assert.deepEqual(await q({ partition: 'batch', 'a.b/c~"d"': 'v 1' }), [rec(20).time]);
    assert.deepEqual(await q({ partition: 'other' }), [rec(21).time]);
    assert.deepEqual(await q({ partition: "' OR 1=1 --" }), []);
  });

  it('keeps extra fields and jobId of JSON payloads', async () => {
    const built = buildRecord(
      {
        name: 'job',
        tags: { cluster: 'c1', function: 'start_job' },
        fields: { event: '{"jobId":4711,"x":1}', n: 1.5, i: 3n, u: new Uint(7n), ok: true },
        time: T0,
      },
      'event',
      T0,
    );
    assert.ok(built.ok);
    await storage.write([built.record]);
    const page = await storage.query({ kind: 'event', order: 'asc', limit: 10, jobId: '4711' });
    assert.equal(page.records.length, 1);
    assert.equal(page.records[0]!.jobId, '4711');
    assert.deepEqual(page.records[0]!.extra, { i: 3, n: 1.5, ok: true, u: 7 });
    const byFn = await storage.query({
      kind: 'event',
      order: 'desc',
      limit: 10,
      functions: ['start_job'],
    });
    assert.equal(byFn.records.length, 1);
  });
});
