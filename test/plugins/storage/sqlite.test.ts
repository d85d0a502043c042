import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { Storage } from '../../../core/contracts/storage.ts';
import { createLogger } from '../../../core/logger.ts';
import plugin, { parseFlags } from '../../../plugins/storage/sqlite/index.ts';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../../../plugins/storage/sqlite/schema.ts';
import { SAFETY_NET_PAGES } from '../../../plugins/storage/sqlite/checkpointer.ts';
import type { SqliteStorage } from '../../../plugins/storage/sqlite/sqlite-storage.ts';
import { rec, T0 } from '../../storage/records.ts';
import { storageSuite } from '../../storage/suite.ts';

const logger = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'cces-sqlite-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
async function openAt(configDir: string, config: Record<string, unknown> = {}) {
  const storage = (await plugin.create(
    { database_path: 'data/events.db', ...config },
    { name: 'storage', logger, configDir },
  )) as SqliteStorage;
  await storage.open();
  return storage;
}

storageSuite('sqlite without the writer thread', async () => {
  const dir = join(root, `suite-${n++}`);
  const config = { writer_thread: false };
  let current: Storage = await openAt(dir, config);
  return {
    storage: current,
    reopen: async () => {
      await current.close();
      current = await openAt(dir, config);
      return current;
    },
    cleanup: async () => {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

storageSuite('sqlite (writer thread, the default, taking every batch)', async () => {
  const dir = join(root, `suite-${n++}`);
  const config = { writer_thread_min_rows: 1 };
  let current: Storage = await openAt(dir, config);
  return {
    storage: current,
    reopen: async () => {
      await current.close();
      current = await openAt(dir, config);
      return current;
    },
    cleanup: async () => {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('sqlite storage specifics', () => {
  it('creates the folder, runs in WAL mode and records the schema version', async () => {
    const dir = join(root, 'wal');
    const storage = await openAt(dir, { synchronous: 'FULL', cache_size: -1000 });
    const db = storage.database;
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 2);
    assert.equal(db.pragma('cache_size', { simple: true }), -1000);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.name, join(dir, 'data/events.db'));
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), SAFETY_NET_PAGES);
    await storage.close();
    const inline = await openAt(join(root, 'inline'), { background_checkpoint: false });
    assert.equal(inline.database.pragma('wal_autocheckpoint', { simple: true }), 1000);
    await inline.close();
  });

  it('copies the WAL into the database file from the checkpoint worker', async () => {
    const storage = await openAt(join(root, 'checkpoint'));
    const file = storage.database.name;
    const before = statSync(file).size;
    const records = Array.from({ length: 3000 }, (_, i) =>
      rec(
        'event',
        'ev',
        { cluster: 'c', hostname: `node${i % 50}` },
        'x'.repeat(200),
        T0 + BigInt(i),
      ),
    );
    await storage.write(records);
    // The writer stays far below its own checkpoint threshold, so only the worker grows the file.
    const deadline = Date.now() + 10_000;
    while (statSync(file).size === before && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(statSync(file).size > before, `database file stayed at ${before} bytes`);
    await storage.close();
    assert.equal(existsSync(`${file}-wal`), false, 'the WAL is removed on close');
  });

  it('returns from open() with the writer thread started, not on the first batch', async () => {
    const storage = await openAt(join(root, 'writer-started'));
    // Already settled: the race takes its value over the string.
    assert.equal(await Promise.race([storage.writerThread!.started, 'still starting']), true);
    await storage.close();
  });

  it('writes on the main connection once the writer thread died; none twice', async () => {
    const storage = await openAt(join(root, 'writer-death'));
    assert.equal(storage.writeConcurrency, 4);
    const batch = (b: number) =>
      Array.from({ length: 200 }, (_, i) =>
        rec('event', 'ev', { cluster: 'c' }, `b${b}`, T0 + BigInt(b * 1000 + i)),
      );
    assert.equal((await storage.write(batch(0))).length, 200);
    // A batch out when the worker dies is either answered or refused as a whole; the
    // sender retries a refused one, and what the worker committed counts as duplicate.
    const out = storage.write(batch(1)).then(
      (o) => o.map((x) => x.status),
      (err: { code?: string }) => err.code,
    );
    await storage.writerThread!.terminate();
    const first = await out;
    assert.ok(
      first === 'CCES_ERR_STORAGE_WRITE' || (Array.isArray(first) && first.length === 200),
      `unexpected answer ${JSON.stringify(first)}`,
    );
    assert.equal(storage.writerThread, undefined);
    assert.equal(storage.writeConcurrency, 1);
    const again = (await storage.write(batch(1))).map((x) => x.status);
    assert.equal(again.length, 200);
    assert.deepEqual(
      (await storage.write(batch(2))).map((x) => x.status),
      Array(200).fill('stored'),
    );
    assert.deepEqual(await storage.stats().then((st) => st.events), 600);
    await storage.close();
  });

  for (const [writerThread, concurrency] of [
    [true, 4],
    [false, 1],
  ] as const) {
    it(`gives the same outcomes with writer_thread ${writerThread}`, async () => {
      const storage = await openAt(join(root, `writer-${writerThread}`), {
        writer_thread: writerThread,
      });
      assert.equal(storage.writeConcurrency, concurrency);
      const a = rec('event', 'ev', { cluster: 'c', hostname: 'n1' }, 'a', T0);
      const far = rec('event', 'ev', { cluster: 'c' }, 'far', 2n ** 63n);
      const log = rec('log', 'lg', { cluster: 'c', loglevel: 'INFO' }, 'l', T0 + 1n);
      assert.deepEqual(await storage.write([a, a, far, log]), [
        { status: 'stored' },
        { status: 'duplicate' },
        { status: 'rejected', reason: 'time_out_of_range' },
        { status: 'stored' },
      ]);
      // Batches in flight together, as the storage manager sends them; large enough to go
      // to the writer thread when it runs (smaller ones stay on the main connection).
      const batches = Array.from({ length: 6 }, (_, b) =>
        Array.from({ length: 250 }, (_, i) =>
          rec('event', 'ev', { cluster: 'c' }, `b${b}`, T0 + 10n + BigInt(b * 250 + i)),
        ),
      );
      const outcomes = await Promise.all(batches.map((batch) => storage.write(batch)));
      assert.deepEqual(
        outcomes.flat().map((o) => o.status),
        Array(1500).fill('stored'),
      );
      // Again with a duplicate and a refused row inside a batch the thread takes.
      const again = [...batches[0]!.slice(0, 249), a, far];
      assert.deepEqual(
        (await storage.write(again)).map((o) => o.status),
        [...Array(250).fill('duplicate'), 'rejected'],
      );
      assert.equal(await storage.ready(), true);
      assert.deepEqual(await storage.stats().then((st) => [st.events, st.logs]), [1501, 1]);
      await storage.close();
    });
  }

  it('migrates a version-0 database and keeps an unrelated table', async () => {
    const dir = join(root, 'v0');
    const storage0 = await openAt(dir);
    await storage0.close();
    rmSync(join(dir, 'data'), { recursive: true });
    await openAt(dir).then((s) => s.close());
    const path = join(dir, 'data/events.db');
    rmSync(path);
    const raw = new Database(path);
    raw.exec("CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('kept')");
    assert.equal(raw.pragma('user_version', { simple: true }), 0);
    raw.close();

    const storage = await openAt(dir);
    assert.equal(storage.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.deepEqual(storage.database.prepare('SELECT t FROM notes').pluck().all(), ['kept']);
    const r = rec('event', 'ev', { cluster: 'c' }, 'x', T0);
    assert.deepEqual(await storage.write([r]), [{ status: 'stored' }]);
    await storage.close();
  });

  it('opens a database of the previous version in the next, data intact', async () => {
    const path = join(root, 'next.db');
    const db = new Database(path);
    migrate(db);
    db.prepare(
      `INSERT INTO events (time, received_at, cluster, name, tags, payload, key)
       VALUES (?, ?, 'c', 'ev', '{}', 'old', 1)`,
    ).run(T0, T0);
    const next = [
      ...MIGRATIONS,
      { version: SCHEMA_VERSION + 1, sql: 'ALTER TABLE events ADD note TEXT' },
    ];
    assert.equal(migrate(db, next), SCHEMA_VERSION);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
    assert.deepEqual(db.prepare('SELECT payload, note FROM events').all(), [
      { payload: 'old', note: null },
    ]);
    db.close();
  });

  it('says why a database cannot be opened', async () => {
    const dir = join(root, 'a-folder');
    mkdirSync(join(dir, 'data/events.db'), { recursive: true });
    await assert.rejects(openAt(dir), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'CCES_ERR_STORAGE_OPEN');
      assert.equal(
        err.message,
        `cannot open the SQLite database ${join(dir, 'data/events.db')}: ` +
          'unable to open database file',
      );
      return true;
    });
  });

  it('fails to open, instead of hanging, where the folder cannot be created', async () => {
    // Node's recursive mkdir loops forever here: /proc/nonexistent is ENOENT, /proc EEXIST.
    await assert.rejects(
      openAt(root, { database_path: '/proc/nonexistent/x.db' }),
      (err: { code?: string; message: string }) => {
        assert.equal(err.code, 'CCES_ERR_STORAGE_OPEN');
        assert.equal(
          err.message,
          'cannot open the SQLite database /proc/nonexistent/x.db: ' +
            "ENOENT: no such file or directory, mkdir '/proc/nonexistent'",
        );
        return true;
      },
    );
  });

  it('refuses a database newer than this code', async () => {
    const dir = join(root, 'newer');
    const first = await openAt(dir);
    first.database.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    await first.close();
    await assert.rejects(openAt(dir), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'CCES_ERR_STORAGE_OPEN');
      assert.match(err.message, /newer than this store knows/);
      return true;
    });
  });

  it('fails a write with CCES_ERR_STORAGE_WRITE while another connection locks', async () => {
    const dir = join(root, 'locked');
    const storage = await openAt(dir, { busy_timeout: '20ms' });
    const other = new Database(join(dir, 'data/events.db'));
    other.exec('BEGIN IMMEDIATE');
    assert.equal(await storage.ready(), false);
    const r = rec('event', 'ev', { cluster: 'c' }, 'x', T0);
    await assert.rejects(
      storage.write([r]),
      (err: { code?: string; cause?: { code?: string } }) => {
        assert.equal(err.code, 'CCES_ERR_STORAGE_WRITE');
        assert.equal(err.cause?.code, 'SQLITE_BUSY');
        return true;
      },
    );
    other.exec('ROLLBACK');
    other.close();
    assert.equal(await storage.ready(), true);
    assert.deepEqual(await storage.write([r]), [{ status: 'stored' }]);
    await storage.close();
  });

  it('keeps every acknowledged record when the writer is killed with SIGKILL', async () => {
    const path = join(root, 'crash/events.db');
    const writer = fileURLToPath(new URL('./fixtures/sqlite-crash-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = 0;
    await new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = chunk.trim().split('\n');
        acked = Number(lines[lines.length - 1]);
        if (acked >= 3000 && child.kill('SIGKILL')) resolve();
      });
    });
    await new Promise((resolve) => child.once('exit', resolve));

    const storage = await openAt(join(root, 'crash'), { database_path: 'events.db' });
    const { records } = await storage.query({ kind: 'event', order: 'asc', limit: 1_000_000 });
    assert.ok(records.length >= acked, `${records.length} stored, ${acked} acknowledged`);
    assert.equal(records.length % 100, 0, 'a batch is committed whole or not at all');
    assert.deepEqual(
      records.map((r) => r.tags.label),
      records.map((_, i) => String(i)),
    );
    await storage.close();
  });

  it('reads the original flags and refuses unknown ones', () => {
    assert.deepEqual(
      parseFlags(['_timeout=250', '_sync=full', '_journal=WAL', '_cache_size=-64']),
      {
        busyTimeoutMs: 250,
        synchronous: 'FULL',
        cacheSize: -64,
      },
    );
    assert.throws(() => parseFlags(['_journal=DELETE']), { code: 'CCES_ERR_CONFIG_INVALID' });
    assert.throws(() => parseFlags(['_foo=1']), { code: 'CCES_ERR_CONFIG_INVALID' });
  });

  it('uses the host index for a cluster-and-host query', async () => {
    const storage = await openAt(join(root, 'plan'));
    const plan = storage.database
      .prepare(
        `EXPLAIN QUERY PLAN SELECT id FROM events WHERE hostname = ? AND +cluster = ?
         AND time >= ? AND time < ? ORDER BY time DESC, id DESC LIMIT 100`,
      )
      .all('n', 'c', 0, 1) as Array<{ detail: string }>;
    assert.deepEqual(
      plan.map((p) => p.detail),
      ['SEARCH events USING INDEX events_hostname_time (hostname=? AND time>? AND time<?)'],
    );
    await storage.close();
  });
});
