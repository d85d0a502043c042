/**
 * cc-event-export end to end: a small known data set in a DuckDB store, exported over the
 * REST API (real HTTP) and straight from the database file, read back exactly.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { pino } from 'pino';
import type { ApiContext } from '../../core/contracts/api.ts';
import type { Storage } from '../../core/contracts/storage.ts';
import { decode } from '../../core/lineproto/index.ts';
import { classifyMessage } from '../../core/message.ts';
import { buildRecord, type EventRecord } from '../../core/record.ts';
import { buildRestApp } from '../../plugins/api/rest/server.ts';
import type { HttpApp } from '../../plugins/shared/http/app.ts';
import duckdbPlugin from '../../plugins/storage/duckdb/index.ts';
import sqlitePlugin from '../../plugins/storage/sqlite/index.ts';
import { openReadOnly } from '../../scripts/cc-event-export/from-duckdb.ts';
import { main } from '../../scripts/cc-event-export/main.ts';

const logger = pino({ level: 'silent' });
const T = 1735732800; // 2025-01-01T12:00:00Z
const RECEIVED = 1735736400000000000n;

const LINES = [
  `job,cluster=c1,hostname=adm,function=start_job event="{\\"jobId\\":7}" ${T + 1}000000000`,
  `nodestate,cluster=c1,hostname=node001 event="down, \\"really\\"" ${T + 2}000000000`,
  `nodestate,cluster=c1,hostname=node002 event="up" ${T + 3}000000000`,
  `nodestate,cluster=c2,hostname=node003 event="up" ${T + 4}000000000`,
  `slurmd,cluster=c1,hostname=node001,loglevel=error log="disk full" ${T + 2}500000000`,
].join('\n');

let dir: string;
let dbPath: string;
let storage: Storage | undefined;
let app: HttpApp | undefined;
let base: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cces-export-cli-'));
  dbPath = join(dir, 'data', 'events.duckdb');
  storage = (await duckdbPlugin.create(
    { database_path: 'data/events.duckdb' },
    { name: 'duckdb', logger, configDir: dir },
  )) as Storage;
  await storage.open();
  const records = recordsOf(LINES);
  const outcomes = await storage.write(records);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    records.map(() => 'stored'),
  );
  app = await buildRestApp(
    {
      address: '127.0.0.1',
      port: 0,
      jwtPublicKey: '',
      maxBodySize: 1 << 20,
      idleTimeoutMs: 5000,
      keepAlives: true,
    },
    apiContext(storage),
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});

after(async () => {
  await app?.close();
  await storage?.close();
  rmSync(dir, { recursive: true, force: true });
});

const HEADER =
  'time,received_at,cluster,name,hostname,type,type_id,stype,stype_id,function,loglevel,' +
  'job_id,tags,payload,extra';
const R = '1735736400000000000';
// Tags are JSON, so CSV quotes them and doubles their quotes (as DuckDB's writer does).
const ROW = {
  job:
    `1735732801000000000,${R},c1,job,adm,,,,,start_job,,7,` +
    '"{""hostname"":""adm"",""function"":""start_job""}","{""jobId"":7}",',
  down:
    `1735732802000000000,${R},c1,nodestate,node001,,,,,,,,` +
    '"{""hostname"":""node001""}","down, ""really""",',
  up2: `1735732803000000000,${R},c1,nodestate,node002,,,,,,,,"{""hostname"":""node002""}",up,`,
  up3: `1735732804000000000,${R},c2,nodestate,node003,,,,,,,,"{""hostname"":""node003""}",up,`,
  log:
    `1735732802500000000,${R},c1,slurmd,node001,,,,,,error,,` +
    '"{""hostname"":""node001"",""loglevel"":""error""}",disk full,',
};
const ALL_EVENTS = [HEADER, ROW.job, ROW.down, ROW.up2, ROW.up3].join('\n') + '\n';
const RANGE = [HEADER, ROW.down, ROW.up2].join('\n') + '\n';
const LOGS = [HEADER, ROW.log].join('\n') + '\n';
const PARQUET_ROWS = [
  [1735732801000000000n, 'c1', 'job', 'adm', '7', '{"jobId":7}'],
  [1735732802000000000n, 'c1', 'nodestate', 'node001', null, 'down, "really"'],
  [1735732803000000000n, 'c1', 'nodestate', 'node002', null, 'up'],
  [1735732804000000000n, 'c2', 'nodestate', 'node003', null, 'up'],
];

describe('cc-event-export over the REST API', () => {
  test('CSV of a range (Unix seconds to RFC 3339), exact text', async () => {
    const out = join(dir, 'range.csv');
    const r = await run([
      '--url',
      base,
      '--from',
      `${T + 2}`,
      '--to',
      '2025-01-01T12:00:04Z',
      '-o',
      out,
    ]);
    assert.deepEqual(r, {
      code: 0,
      stdout: `exported events to ${out} (csv, ${Buffer.byteLength(RANGE)} bytes)\n`,
      stderr: '',
    });
    assert.equal(readFileSync(out, 'utf8'), RANGE);
  });

  test('logs as CSV with --format', async () => {
    const out = join(dir, 'logs.txt');
    const r = await run(['--url', `${base}/`, '--kind', 'log', '--format', 'csv', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8'), LOGS);
  });

  test('Parquet that read_parquet reads back exactly', async () => {
    const out = join(dir, 'api.parquet');
    const r = await run(['--url', base, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readParquet(out), PARQUET_ROWS);
  });

  test('an unreachable store fails with exit 1 and leaves no file', async () => {
    const out = join(dir, 'none.parquet');
    const r = await run(['--url', 'http://127.0.0.1:1', '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^cc-event-export: cannot reach http:\/\/127\.0\.0\.1:1: /);
    assert.equal(existsSync(out), false);
    assert.deepEqual(leftovers(), []);
  });

  test("a refused query shows the store's error", async () => {
    const out = join(dir, 'none.csv');
    const r = await run(['--url', `${base}/nothing`, '--out', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^cc-event-export: the store answered 404 \(CCES_ERR_HTTP_NOT_FOUND: /);
    assert.equal(existsSync(out), false);
  });

  test('usage errors exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--out', 'x.csv'], /give one source/],
      [['--url', base, '--duckdb', dbPath, '--out', 'x'], /give one source/],
      [['--url', base], /--out <file> is required/],
      [['--url', base, '--out', 'x', '--kind', 'metric'], /--kind "metric"/],
      [['--url', base, '--out', 'x', '--format', 'json'], /--format "json"/],
      [['--url', base, '--out', 'x', '--from', 'yesterday'], /--from: "yesterday" is neither/],
      [['--url', base, '--out', 'x', '--from', '20', '--to', '10'], /--from must be before/],
    ];
    for (const [argv, message] of cases) {
      const r = await run(argv);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, message);
    }
  });
});

describe('cc-event-export from a DuckDB file', () => {
  before(async () => {
    // DuckDB locks the file: the store must be gone before the file is opened read-only.
    await app?.close();
    await storage?.close();
    app = undefined;
    storage = undefined;
  });

  test('CSV identical to the API export, exact text', async () => {
    const out = join(dir, 'direct.csv');
    const r = await run(['--duckdb', dbPath, '--out', out]);
    assert.deepEqual(r, {
      code: 0,
      stdout: `exported 4 events to ${out} (csv, ${Buffer.byteLength(ALL_EVENTS)} bytes)\n`,
      stderr: '',
    });
    assert.equal(readFileSync(out, 'utf8'), ALL_EVENTS);
  });

  test('a range of logs and of events', async () => {
    const logs = join(dir, 'direct-logs.csv');
    assert.equal((await run(['--duckdb', dbPath, '--kind', 'log', '-o', logs])).code, 0);
    assert.equal(readFileSync(logs, 'utf8'), LOGS);
    const range = join(dir, 'direct-range.csv');
    const argv = ['--duckdb', dbPath, '--from', '2025-01-01T12:00:02Z', '--to', `${T + 4}`];
    const r = await run([...argv, '-o', range]);
    assert.equal(
      r.stdout,
      `exported 2 events to ${range} (csv, ${Buffer.byteLength(RANGE)} bytes)\n`,
    );
    assert.equal(readFileSync(range, 'utf8'), RANGE);
  });

  test('Parquet that read_parquet reads back exactly', async () => {
    const out = join(dir, 'direct.parquet');
    const r = await run(['--duckdb', dbPath, '--format', 'parquet', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readParquet(out), PARQUET_ROWS);
  });

  test("an output path with a quote in it (COPY's path is a string literal)", async () => {
    mkdirSync(join(dir, "it's"));
    const out = join(dir, "it's", "o'k.csv");
    assert.equal((await run(['--duckdb', dbPath, '--out', out])).code, 0);
    assert.equal(readFileSync(out, 'utf8'), ALL_EVENTS);
    assert.deepEqual(readdirSync(join(dir, "it's")), ["o'k.csv"]);
  });

  test('the database file is only read', async () => {
    const before = readFileSync(dbPath);
    assert.equal((await run(['--duckdb', dbPath, '--out', join(dir, 'again.csv')])).code, 0);
    assert.ok(readFileSync(dbPath).equals(before));
    assert.deepEqual(readdirSync(join(dir, 'data')), ['events.duckdb']);
  });

  test('DuckDB may not install or load extensions on its own', async () => {
    const instance = await openReadOnly(dbPath);
    const conn = await instance.connect();
    try {
      const sql =
        "SELECT current_setting('autoinstall_known_extensions')," +
        " current_setting('autoload_known_extensions')";
      assert.deepEqual((await conn.runAndReadAll(sql)).getRows(), [[false, false]]);
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  test('a missing database fails with exit 1', async () => {
    const r = await run(['--duckdb', join(dir, 'nope.duckdb'), '--out', join(dir, 'n.csv')]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `cc-event-export: no DuckDB database at ${join(dir, 'nope.duckdb')}\n`);
    assert.deepEqual(leftovers(), []);
  });

  test("a SQLite store's file is refused with exit 2 before DuckDB opens it", async () => {
    const sqlite = (await sqlitePlugin.create(
      { database_path: 'data/events.db' },
      { name: 'sqlite', logger, configDir: dir },
    )) as Storage;
    await sqlite.open();
    await sqlite.write(recordsOf(LINES));
    await sqlite.close();
    const path = join(dir, 'data', 'events.db');
    const out = join(dir, 'from-sqlite.csv');
    const r = await run(['--duckdb', path, '--out', out, '--format', 'csv']);
    assert.deepEqual(r, {
      code: 2,
      stdout: '',
      stderr:
        `cc-event-export: ${path} is a SQLite database, not DuckDB: --duckdb reads only the ` +
        "duckdb storage's file, and --url needs a store on duckdb. Export from a SQLite store " +
        'over its running API: GET /api/v1/events?format=csv (or /api/v1/logs), at most 10000 ' +
        'records a page, the next cursor in the X-Next-Cursor header\n',
    });
    assert.equal(existsSync(out), false);
    assert.deepEqual(leftovers(), []);
  });
});

async function readParquet(file: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const sql =
      'SELECT time, cluster, name, hostname, job_id, payload FROM read_parquet($file)' +
      ' ORDER BY time';
    return (await conn.runAndReadAll(sql, { file })).getRows();
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

// Temp folders of the tool left beside the outputs.
function leftovers(): string[] {
  return readdirSync(dir).filter((f) => f.startsWith('.cc-event-export-'));
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[]): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as PassThrough & NodeJS.WriteStream;
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d));
  stderr.on('data', (d: Buffer) => (err += d));
  const code = await main(argv, { stdout, stderr });
  return { code, stdout: out, stderr: err };
}

function recordsOf(text: string): EventRecord[] {
  const { messages, errors } = decode(text, { precision: 'auto' });
  assert.deepEqual(errors, []);
  return messages.map((msg) => {
    const kind = classifyMessage(msg);
    assert.ok(kind === 'event' || kind === 'log');
    const built = buildRecord(msg, kind, RECEIVED);
    assert.ok(built.ok, `line ${msg.line} builds`);
    return built.record;
  });
}

function apiContext(s: Storage): ApiContext {
  return {
    storage: s,
    ingest: async () => {
      throw new Error('this test API takes no writes');
    },
    stats: () => ({}),
    ready: async () => true,
    logger,
    extensions: [],
  };
}
