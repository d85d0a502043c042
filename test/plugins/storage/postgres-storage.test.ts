/**
 * What the Postgres storage does beyond the shared suite: config, daily partitions and
 * retention by partition, rows the server refuses, NUL in payloads, migrations, and no
 * password in any log line or error.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { Writable } from 'node:stream';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { checkConfig } from '../../../core/config/schema-check.ts';
import { createLogger } from '../../../core/logger.ts';
import { nowNanos } from '../../../core/time.ts';
import {
  connectionSettings,
  parseFlags,
  type PostgresConfig,
} from '../../../plugins/storage/postgres/connection.ts';
import plugin, { PostgresConfigSchema } from '../../../plugins/storage/postgres/index.ts';
import { DAY_NS, dayOf, partitionName } from '../../../plugins/storage/postgres/partitions.ts';
import type { PostgresStorage } from '../../../plugins/storage/postgres/postgres-storage.ts';
import { createTestDatabase, SHARED, type TestDatabase } from '../../helpers/postgres.ts';
import { postgresSkip } from '../../helpers/services.ts';
import { labels, rec } from '../../storage/records.ts';

const skip = await postgresSkip();
const SECRET = 'pa55-w0rd-never-logged';

/**
 * Runs `fn` with PGUSER and USER set as given (deleted when undefined), and with pg's
 * default user, which pg read from USER when it was loaded, cleared as if USER had never
 * been set; restores all three afterwards.
 */
async function withUserEnv<T>(
  vars: { PGUSER?: string; USER?: string },
  fn: () => T | Promise<T>,
): Promise<T> {
  const saved = { PGUSER: process.env.PGUSER, USER: process.env.USER, pg: pg.defaults.user };
  const set = (name: 'PGUSER' | 'USER', value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  set('PGUSER', vars.PGUSER);
  set('USER', vars.USER);
  pg.defaults.user = undefined;
  try {
    return await fn();
  } finally {
    set('PGUSER', saved.PGUSER);
    set('USER', saved.USER);
    pg.defaults.user = saved.pg;
  }
}

/** A logger whose lines are kept for inspection. */
function capturingLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ level: 'debug' }, sink), lines };
}

describe('postgres config', () => {
  const where = { file: '/etc/cces/storage.json', key: '/backend' };

  it('takes the original keys and builds one connection string', () => {
    const cfg = checkConfig<PostgresConfig>(
      PostgresConfigSchema,
      {
        server: 'db.example',
        port: 5433,
        database_path: 'events',
        username: 'cc user',
        password: 'p@ss/word',
        flags: ['sslmode=disable', 'connect_timeout=3'],
      },
      where,
    );
    const s = connectionSettings(cfg);
    assert.equal(
      s.pool.connectionString,
      'postgresql://cc%20user:p%40ss%2Fword@db.example:5433/events?sslmode=disable',
    );
    assert.equal(s.pool.connectionTimeoutMillis, 3000);
    assert.deepEqual(s.target, {
      host: 'db.example',
      port: 5433,
      database: 'events',
      user: 'cc user',
    });
  });

  it('reads connection_timeout as seconds or a duration, flags as a list or a string', () => {
    const base = { database_path: 'd' };
    assert.equal(
      connectionSettings({ ...base, connection_timeout: 1 }).pool.connectionTimeoutMillis,
      1000,
    );
    assert.equal(
      connectionSettings({ ...base, connection_timeout: '1m30s' }).pool.connectionTimeoutMillis,
      90_000,
    );
    assert.equal(connectionSettings(base).pool.connectionTimeoutMillis, 5000);
    assert.deepEqual(
      [...parseFlags('sslmode=require&application_name=a%20b')],
      [
        ['sslmode', 'require'],
        ['application_name', 'a%20b'],
      ],
    );
    assert.deepEqual(
      [...parseFlags('sslmode=require application_name=x')],
      [
        ['sslmode', 'require'],
        ['application_name', 'x'],
      ],
    );
    assert.throws(() => parseFlags(['nonsense']), { code: 'CCES_ERR_CONFIG_INVALID' });
  });

  it('defaults username to PGUSER, else USER, else the OS account', async () => {
    const userOf = () => connectionSettings({ database_path: 'd' }).target.user;
    const os = userInfo().username;
    assert.deepEqual(
      [
        await withUserEnv({ PGUSER: 'pg-user', USER: 'env-user' }, userOf),
        await withUserEnv({ USER: 'env-user' }, userOf),
        await withUserEnv({}, userOf),
        await withUserEnv({}, () => {
          const s = connectionSettings({ database_path: 'd', username: 'cces' });
          return s.target.user;
        }),
      ],
      ['pg-user', 'env-user', os, 'cces'],
    );
    const url = await withUserEnv({}, () => {
      return connectionSettings({ server: 'h', database_path: 'd', password: 'pw' }).pool;
    });
    assert.equal(url.connectionString, `postgresql://${encodeURIComponent(os)}:pw@h:5432/d`);
  });

  it('takes a connection_string alone, and a socket folder as server', () => {
    const s = connectionSettings({
      connection_string: `postgres://u:${SECRET}@h:1/db`,
      pool_size: 3,
    });
    assert.deepEqual(s.target, { host: 'h', port: 1, database: 'db', user: 'u' });
    assert.equal(s.pool.max, 3);
    assert.throws(() => connectionSettings({ connection_string: 'postgres://h/db', server: 'x' }), {
      code: 'CCES_ERR_CONFIG_INVALID',
      message: /either connection_string or server/,
    });
    assert.throws(() => connectionSettings({}), { code: 'CCES_ERR_CONFIG_INVALID' });
    const socket = connectionSettings({ server: '/var/run/postgresql', database_path: 'd' });
    assert.equal(socket.target.host, '/var/run/postgresql');
  });

  it('refuses unknown keys and wrong types with the key named', () => {
    assert.throws(
      () => checkConfig(PostgresConfigSchema, { database_path: 'd', retention: 1 }, where),
      {
        code: 'CCES_ERR_CONFIG_UNKNOWN_KEY',
      },
    );
    assert.throws(
      () => checkConfig(PostgresConfigSchema, { database_path: 'd', port: 'x' }, where),
      {
        code: 'CCES_ERR_CONFIG_INVALID',
      },
    );
  });
});

describe('postgres storage', { skip }, () => {
  let db: TestDatabase;
  const opened: PostgresStorage[] = [];
  const today = dayOf(nowNanos());
  const at = (day: number, ns = 0n) => BigInt(day) * DAY_NS + ns;

  before(async () => {
    db = await createTestDatabase('pgspec');
  });
  after(async () => {
    for (const s of opened) await s.close();
    await db?.drop();
  });

  async function open(
    schema: string,
    extra: Record<string, unknown> = {},
    logger = createLogger({ level: 'silent' }),
  ) {
    const config = checkConfig<Record<string, unknown>>(
      PostgresConfigSchema,
      {
        server: SHARED.host,
        port: SHARED.port,
        username: SHARED.user,
        database_path: db.name,
        schema,
        ...extra,
      },
      { file: 'storage.json', key: '/backend' },
    );
    const storage = (await plugin.create(config, {
      name: 'storage',
      logger,
      configDir: '/',
    })) as PostgresStorage;
    await storage.open();
    opened.push(storage);
    return storage;
  }

  /** Rows per partition of a table, as the catalog names them. */
  async function placement(schema: string, table: string): Promise<Record<string, number>> {
    const res = await db.exec(
      `SELECT tableoid::regclass::text AS part, count(*)::int AS n
         FROM ${schema}.${table} GROUP BY 1`,
    );
    return Object.fromEntries(res.rows.map((r) => [r.part.replace(`${schema}.`, ''), r.n]));
  }

  it('creates partitions from yesterday to two days ahead; records version 1', async () => {
    await open('ahead');
    const res = await db.exec(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'ahead.events'::regclass ORDER BY 1`,
    );
    const expected = [-1, 0, 1, 2].map((d) => partitionName('events', today + d));
    assert.deepEqual(
      res.rows.map((r) => r.relname),
      [...expected, 'events_default'].sort(),
    );
    assert.deepEqual((await db.exec('SELECT version FROM ahead.cces_schema_version')).rows, [
      { version: 1 },
    ]);
  });

  it('puts rows in their day, makes window days on demand, far times in default', async () => {
    const s = await open('place');
    const r = (label: string, time: bigint) =>
      rec('event', 'ev', { cluster: 'c', label }, 'x', time);
    const outcomes = await s.write([
      r('today', at(today, 5n)),
      r('tomorrow', at(today + 1)),
      r('back5', at(today - 5, 1n)),
      r('future', at(today + 30)),
      r('past', 1n),
    ]);
    assert.ok(outcomes.every((o) => o.status === 'stored'));
    assert.deepEqual(await placement('place', 'events'), {
      [partitionName('events', today)]: 1,
      [partitionName('events', today + 1)]: 1,
      [partitionName('events', today - 5)]: 1,
      events_default: 2,
    });
    assert.deepEqual(labels(await s.query({ kind: 'event', order: 'asc', limit: 10 })), [
      'past',
      'back5',
      'today',
      'tomorrow',
      'future',
    ]);
  });

  it('moves the rows of a day out of the default partition once the day has one', async () => {
    const narrow = await open('move', { partition_days_back: 7 });
    const old = rec('log', 'lg', { cluster: 'c', label: 'first' }, 'x', at(today - 20, 7n));
    await narrow.write([old]);
    assert.deepEqual(await placement('move', 'logs'), { logs_default: 1 });
    const before = (await narrow.query({ kind: 'log', order: 'asc', limit: 5 })).records[0]!;
    await narrow.close();

    const wide = await open('move', { partition_days_back: 30 });
    const next = rec('log', 'lg', { cluster: 'c', label: 'second' }, 'x', at(today - 20, 8n));
    assert.deepEqual(await wide.write([next, old]), [
      { status: 'stored' },
      { status: 'duplicate' },
    ]);
    assert.deepEqual(await placement('move', 'logs'), { [partitionName('logs', today - 20)]: 2 });
    const page = await wide.query({ kind: 'log', order: 'asc', limit: 5 });
    assert.deepEqual(labels(page), ['first', 'second']);
    assert.equal(page.records[0]!.id, before.id);
  });

  it('retention drops whole old partitions and deletes the rest in chunks', async () => {
    const s = await open('retain', { partition_days_back: 10 });
    const events = [
      ...[1n, 2n, 3n].map((i) =>
        rec('event', 'ev', { cluster: 'c', label: `d5_${i}` }, 'x', at(today - 5, i)),
      ),
      ...[1n, 2n].map((i) =>
        rec('event', 'ev', { cluster: 'c', label: `d4_${i}` }, 'x', at(today - 4, i)),
      ),
      ...[1n, 2n, 3n, 4n].map((i) =>
        rec('event', 'ev', { cluster: 'c', label: `y_${i}` }, 'x', at(today - 1, i)),
      ),
      ...[1n, 2n].map((i) => rec('event', 'ev', { cluster: 'c', label: `old_${i}` }, 'x', i)),
      rec('event', 'ev', { cluster: 'c', label: 'now' }, 'x', at(today, 1n)),
    ];
    await s.write(events);
    const cutoff = at(today - 1, 3n);
    const chunks: number[] = [];
    for (let n = -1; n !== 0;) chunks.push((n = await s.deleteBefore('event', cutoff, 3)));
    // Two whole days (5 rows) go at once, then 2 rows of yesterday and 2 of the default.
    assert.deepEqual(chunks, [5, 3, 1, 0]);
    assert.deepEqual(labels(await s.query({ kind: 'event', order: 'asc', limit: 20 })), [
      'y_3',
      'y_4',
      'now',
    ]);
    const parts = await placement('retain', 'events');
    assert.deepEqual(parts, {
      [partitionName('events', today - 1)]: 2,
      [partitionName('events', today)]: 1,
    });
    assert.ok(!s.partitions.days('event').includes(today - 5));
    assert.ok(s.partitions.days('event').includes(today - 1));
    const gone = await db.exec(
      `SELECT to_regclass('retain.${partitionName('events', today - 4)}') AS r`,
    );
    assert.equal(gone.rows[0].r, null);
  });

  it('rejects only rows the server refuses and rows with NUL outside the payload', async () => {
    const s = await open('refuse');
    const huge = randomBytes(4000).toString('hex');
    const records = [
      rec('event', 'ev', { cluster: 'c', label: 'a' }, 'x', at(today, 1n)),
      rec('event', 'ev', { cluster: 'c', label: 'huge', hostname: huge }, 'x', at(today, 2n)),
      rec('event', 'ev', { cluster: 'c', label: 'b' }, 'x', at(today, 3n)),
      rec('event', 'ev', { cluster: 'c', label: 'c' }, '{"jobId":"a\\u0000b"}', at(today, 4n)),
      rec('log', 'lg', { cluster: 'c', label: 'd' }, 'x', at(today, 5n)),
    ];
    assert.deepEqual(await s.write(records), [
      { status: 'stored' },
      { status: 'rejected', reason: 'postgres_54000' },
      { status: 'stored' },
      { status: 'rejected', reason: 'nul_byte' },
      { status: 'stored' },
    ]);
    assert.deepEqual(labels(await s.query({ kind: 'event', order: 'asc', limit: 10 })), ['a', 'b']);
    assert.deepEqual(labels(await s.query({ kind: 'log', order: 'asc', limit: 10 })), ['d']);
  });

  it('finds a payload holding NUL by text, and stand-in characters never match a NUL', async () => {
    const s = await open('nul');
    const payloads = ['a\u0000b', 'a\uFFFFb', 'A\u0000\u0000B', 'plain ab'];
    await s.write(
      payloads.map((p, i) =>
        rec('log', 'lg', { cluster: 'c', label: `n${i}` }, p, at(today, BigInt(i))),
      ),
    );
    const find = async (text: string) =>
      labels(await s.query({ kind: 'log', order: 'asc', limit: 10, text }));
    assert.deepEqual(await find('a\u0000b'), ['n0']);
    assert.deepEqual(await find('\u0000'), ['n0', 'n2']);
    assert.deepEqual(await find('\u0000\u0000b'), ['n2']);
    assert.deepEqual(await find('a\uFFFF'), ['n1']);
    assert.deepEqual(await find('b'), ['n0', 'n1', 'n2', 'n3']);
    const [n0, n1, n2] = (await s.query({ kind: 'log', order: 'asc', limit: 3 })).records;
    assert.deepEqual([n0!.payload, n1!.payload, n2!.payload], payloads.slice(0, 3));
    const stored = await db.exec(`SELECT payload_nul FROM nul.logs ORDER BY time`);
    assert.deepEqual(
      stored.rows.map((r) => r.payload_nul),
      ['\uFFFF', null, '\uFFFF', null],
    );
  });

  it('stores a batch of both kinds in one transaction; retries find duplicates', async () => {
    const s = await open('mixed');
    const ev = rec('event', 'ev', { cluster: 'c', label: 'e' }, 'x', at(today, 1n));
    const lg = rec('log', 'lg', { cluster: 'c', label: 'l' }, 'x', at(today, 1n));
    assert.deepEqual(await s.write([ev, lg]), [{ status: 'stored' }, { status: 'stored' }]);
    const more = rec('event', 'ev', { cluster: 'c', label: 'e2' }, 'x', at(today, 2n));
    assert.deepEqual(await s.write([lg, more, ev]), [
      { status: 'duplicate' },
      { status: 'stored' },
      { status: 'duplicate' },
    ]);
    const fresh = rec('event', 'ev', { cluster: 'c', label: 'e3' }, 'x', at(today, 3n));
    assert.deepEqual(await s.write([fresh]), [{ status: 'stored' }]);
    assert.deepEqual(await s.stats().then(({ events, logs }) => ({ events, logs })), {
      events: 3,
      logs: 1,
    });
  });

  it('writes two batches at once; sharing rows in opposite order, no deadlock', async () => {
    const s = await open('together');
    assert.equal(s.writeConcurrency, 2);
    const rows = Array.from({ length: 4000 }, (_, i) =>
      rec('event', 'ev', { cluster: 'c', n: String(i) }, 'x', at(today, BigInt(i))),
    );
    const deadlocks = async () =>
      Number(
        (await db.exec('SELECT deadlocks FROM pg_stat_database WHERE datname = $1', [db.name]))
          .rows[0].deadlocks,
      );
    const before = await deadlocks();
    const [a, b] = await Promise.all([s.write(rows), s.write([...rows].reverse())]);
    const stored = (o: { status: string }[]) => o.filter((x) => x.status === 'stored').length;
    const dupes = (o: { status: string }[]) => o.filter((x) => x.status === 'duplicate').length;
    assert.deepEqual([stored(a) + stored(b), dupes(a) + dupes(b)], [4000, 4000]);
    assert.equal((await s.stats()).events, 4000);
    // A backend reports its deadlocks to the statistics within a second.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await deadlocks()) - before, 0);
  });

  it('takes write_concurrency from the config', async () => {
    assert.equal((await open('one', { write_concurrency: 1 })).writeConcurrency, 1);
  });

  it('migrates once when two stores open a schema together; refuses newer schemas', async () => {
    const [a, b] = await Promise.all([open('twice'), open('twice')]);
    await a.write([rec('event', 'ev', { cluster: 'c', label: 'x' }, 'x', at(today))]);
    assert.equal((await b.stats()).events, 1);
    await db.exec('UPDATE twice.cces_schema_version SET version = 99');
    await assert.rejects(open('twice'), { code: 'CCES_ERR_STORAGE_OPEN', message: /version 99/ });
  });

  it('writes into the default partition when a new partition cannot get its lock', async () => {
    const { logger, lines } = capturingLogger();
    const s = await open('locked', { partition_days_back: 10 }, logger);
    const holder = new pg.Client({ ...SHARED, database: db.name });
    await holder.connect();
    try {
      // A long reader of the table keeps partition DDL from its exclusive lock.
      await holder.query('BEGIN');
      await holder.query('SELECT count(*) FROM locked.events');
      const r = rec('event', 'ev', { cluster: 'c', label: 'x' }, 'x', at(today - 6));
      assert.deepEqual(await s.write([r]), [{ status: 'stored' }]);
      assert.deepEqual(await placement('locked', 'events'), { events_default: 1 });
      assert.equal(lines.filter((l) => l.includes('postgres partition not created')).length, 1);
    } finally {
      await holder.end();
    }
  });

  it('gives up a write the server leaves unanswered; writes again once it answers', async () => {
    const proxy = await FreezableProxy.start(SHARED.port);
    try {
      const s = await open('frozen', {
        port: proxy.port,
        write_timeout: '1s',
        connection_timeout: '1s',
      });
      const first = rec('event', 'ev', { cluster: 'c', label: 'first' }, 'x', at(today, 1n));
      const second = rec('event', 'ev', { cluster: 'c', label: 'second' }, 'x', at(today, 2n));
      assert.deepEqual(await s.write([first]), [{ status: 'stored' }]);

      proxy.freeze();
      const started = Date.now();
      await assert.rejects(s.write([second]), { code: 'CCES_ERR_STORAGE_UNAVAILABLE' });
      assert.ok(Date.now() - started < 5000);
      assert.equal(await s.ready(), false);

      proxy.thaw();
      const again = await s.write([second, first]);
      assert.equal(again[1]!.status, 'duplicate');
      assert.ok(['stored', 'duplicate'].includes(again[0]!.status));
      assert.equal(await s.ready(), true);
      const page = await s.query({ kind: 'event', order: 'asc', limit: 10 });
      assert.deepEqual(labels(page), ['first', 'second']);
    } finally {
      proxy.close();
    }
  });

  it('opens and writes as the OS account without username, PGUSER or USER', async () => {
    const config = {
      server: SHARED.host,
      port: SHARED.port,
      database_path: db.name,
      schema: 'os_user',
    };
    const logger = createLogger({ level: 'silent' });
    const s = await withUserEnv({}, async () => {
      const storage = await plugin.create(config, { name: 'storage', logger, configDir: '/' });
      await storage.open();
      opened.push(storage as PostgresStorage);
      return storage;
    });
    const out = await s.write([
      rec('event', 'ev', { cluster: 'c', label: 'as-os-user' }, 'x', at(today)),
    ]);
    assert.deepEqual(out, [{ status: 'stored' }]);
    const page = await s.query({ kind: 'event', order: 'asc', limit: 10 });
    assert.deepEqual(labels(page), ['as-os-user']);
    const owner = await db.exec(
      `SELECT tableowner FROM pg_tables WHERE schemaname = 'os_user' AND tablename = 'events'`,
    );
    assert.deepEqual(owner.rows, [{ tableowner: userInfo().username }]);
  });

  it('says why it cannot open: no such database, or no server on the port', async () => {
    const logger = createLogger({ level: 'silent' });
    const attempt = async (extra: Record<string, unknown>) => {
      const { host: server, port, user: username } = SHARED;
      const config = { server, port, username, password: SECRET, database_path: db.name };
      const s = await plugin.create({ ...config, ...extra }, { name: 's', logger, configDir: '/' });
      return s.open().then(
        () => assert.fail('opened'),
        (err: Error & { code: string }) => [err.code, err.message],
      );
    };
    assert.deepEqual(await attempt({ database_path: 'cces_no_such_db' }), [
      'CCES_ERR_STORAGE_OPEN',
      'cannot open the Postgres database cces_no_such_db at 127.0.0.1:5432: ' +
        'database "cces_no_such_db" does not exist',
    ]);
    assert.deepEqual(await attempt({ port: 1 }), [
      'CCES_ERR_STORAGE_OPEN',
      `cannot open the Postgres database ${db.name} at 127.0.0.1:1: ` +
        'connect ECONNREFUSED 127.0.0.1:1',
    ]);
  });

  it('keeps the password out of every log line and error', async () => {
    const { logger, lines } = capturingLogger();
    const s = await open('secret', { password: SECRET }, logger);
    await s.write([rec('event', 'ev', { cluster: 'c' }, 'x', at(today))]);
    await s.close();
    assert.ok(lines.some((l) => l.includes('postgres storage open')));
    const config = {
      server: '127.0.0.1',
      port: 1,
      database_path: db.name,
      username: 'u',
      password: SECRET,
    };
    const bad = await plugin.create(config, { name: 'storage', logger, configDir: '/' });
    const err = await bad.open().then(
      () => undefined,
      (e: unknown) => e as Error & { code: string },
    );
    assert.equal(err?.code, 'CCES_ERR_STORAGE_OPEN');
    logger.error({ err }, 'open failed');
    const seen = JSON.stringify({
      lines,
      message: err!.message,
      details: (err as { details?: unknown }).details,
      cause: String(err!.cause),
    });
    assert.ok(!seen.includes(SECRET), 'password leaked');
  });
});

/** A TCP proxy to the local Postgres that can stop passing bytes, as a partition would. */
class FreezableProxy {
  port = 0;
  #frozen = false;
  readonly #target: number;
  readonly #sockets = new Set<Socket>();
  readonly #server: Server = createServer((client) => this.#pair(client));

  private constructor(target: number) {
    this.#target = target;
  }

  static async start(target: number): Promise<FreezableProxy> {
    const proxy = new FreezableProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.#server.address() as { port: number }).port;
    return proxy;
  }

  freeze(): void {
    this.#frozen = true;
    for (const s of this.#sockets) s.pause();
  }

  thaw(): void {
    this.#frozen = false;
    for (const s of this.#sockets) s.resume();
  }

  close(): void {
    for (const s of this.#sockets) s.destroy();
    this.#server.close();
  }

  #pair(client: Socket): void {
    const upstream = connect(this.#target, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(from);
      from.on('data', (chunk) => to.write(chunk));
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.#sockets.delete(from);
        to.destroy();
      });
      if (this.#frozen) from.pause();
    }
  }
}
