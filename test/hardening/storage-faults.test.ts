/**
 * Storage faults through the real store process and HTTP writers: SQLite on a full disk (a
 * tiny tmpfs), SQLite on read-only (immutable) files, and a private Postgres stopped and
 * started. In each: writes that cannot commit are held within the queue, the rest get 503
 * with Retry-After and a clear message, `/readyz` is false, ingest resumes without a restart
 * once the fault is gone, and every acknowledged event is stored exactly once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createTestDatabase,
  PrivatePostgres,
  privatePostgresSkip,
  type TestDatabase,
} from '../helpers/postgres.ts';
import { StoreProcess } from '../helpers/store-process.ts';
import { storedIds } from './crash.ts';
import {
  FaultLoad,
  faultSkip,
  fillDisk,
  mountTmpfs,
  readyStatus,
  setImmutable,
  unmount,
  until,
} from './faults.ts';
import { writeHardenedConfig } from './harness.ts';

/** A small queue, so the held writes fill it and later writers are refused at once. */
const STORAGE = { max_queue: 300, batch_size: 100, flush_time: '5ms' };
const LOAD = { writers: 6, batch: 100, pad: 300 };
const FAULT_MS = 10_000;

const tmpfsSkip = faultSkip('mounting a tmpfs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cces-probe-'));
  try {
    mountTmpfs(dir, '64k');
    unmount(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const chattrSkip = faultSkip('chattr +i', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cces-probe-'));
  const file = join(dir, 'f');
  writeFileSync(file, '');
  try {
    setImmutable([file], true);
    setImmutable([file], false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs the load across a fault: `stage` causes it, `clear` removes it. */
async function acrossFault(store: StoreProcess, tag: string, stage: () => void, clear: () => void) {
  const load = new FaultLoad(store.api, { ...LOAD, tag });
  try {
    await until('ingest before the fault', () => load.acked.length >= 1000);
    stage();
    await until(
      '503 answers and /readyz false',
      async () =>
        load.refusals.some((r) => /unavailable/.test(r.message)) &&
        (await readyStatus(store.api)) === 503,
      FAULT_MS,
    );
    const ackedDuringFault = load.acked.length;
    const refused = load.refusals.length;
    await until('more refusals during the fault', () => load.refusals.length >= refused + 20);
    assert.equal(load.acked.length, ackedDuringFault, 'nothing acknowledged during the fault');
    assert.equal(await readyStatus(store.api), 503);
    clear();
    await until('/readyz true again', async () => (await readyStatus(store.api)) === 200);
    await until('ingest after the fault', () => load.acked.length >= ackedDuringFault + 1000);
  } finally {
    await load.stop();
  }
  return load;
}

/** The checks every fault shares; `cause` must appear in the store's "holding" log line. */
async function assertRecovered(store: StoreProcess, load: FaultLoad, cause: RegExp) {
  assert.deepEqual(load.failures, []);
  assert.deepEqual(Object.keys(load.status).sort(), ['204', '503'], JSON.stringify(load.status));
  assert.equal(load.missingRetryAfter, 0, 'every 503 has a Retry-After');
  assert.deepEqual(
    new Set(load.refusals.map((r) => r.code)),
    new Set(['CCES_ERR_INGEST_OVERLOADED']),
  );
  const held = load.refusals.filter((r) => /storage is unavailable/.test(r.message));
  assert.ok(held.length > 0, `a refusal names the cause: ${JSON.stringify(load.refusals[0])}`);
  assert.deepEqual(new Set(held.map((r) => r.retryAfter)), new Set(['5']));

  const seen = await storedIds(store);
  const missing = load.acked.filter((id) => !seen.has(id));
  assert.deepEqual(missing.slice(0, 5), [], `${missing.length} acknowledged events are missing`);
  assert.deepEqual(
    [...seen].filter(([, n]) => n !== 1),
    [],
    'no event stored twice',
  );
  assert.equal(seen.size, load.acked.length, 'nothing stored that was not acknowledged');

  const holding = store.logs.filter((l) => l.includes('holding writes'));
  assert.ok(
    holding.some((l) => cause.test(l)),
    `log names the cause:\n${holding.join('\n')}`,
  );
  assert.ok(store.logs.some((l) => l.includes('storage available again')));
  assert.equal(await store.counter('storage', 'unavailable'), 1, 'one outage');
}

describe('SQLite on a full disk', { skip: tmpfsSkip }, () => {
  let dir: string;
  let store: StoreProcess | undefined;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cces-full-'));
    // Room for everything the test stores; the filler takes the rest.
    mountTmpfs(dir, '16m');
    const paths = writeHardenedConfig({ backend: 'sqlite', storage: STORAGE }, dir);
    store = await StoreProcess.start(paths.configPath);
  });

  after(async () => {
    await store?.kill();
    if (dir) unmount(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'holds and refuses writes while full, resumes once space is freed',
    { timeout: 50_000 },
    async () => {
      const filler = join(dir, 'filler');
      const load = await acrossFault(
        store!,
        'full',
        () => fillDisk(filler),
        () => rmSync(filler),
      );
      await assertRecovered(store!, load, /SQLITE_FULL/);
    },
  );
});

describe('SQLite on read-only files', { skip: chattrSkip }, () => {
  let dir: string;
  let files: string[] = [];
  let store: StoreProcess | undefined;

  before(async () => {
    const paths = writeHardenedConfig({ backend: 'sqlite', storage: STORAGE });
    dir = paths.dir;
    // Not the -shm file: SQLite maps it, and a write to an immutable mapping is a SIGBUS.
    files = [paths.dbPath, `${paths.dbPath}-wal`];
    store = await StoreProcess.start(paths.configPath);
  });

  after(async () => {
    try {
      setImmutable(files, false);
    } catch {
      // The files were never made immutable (the test failed before), or are gone.
    }
    await store?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'holds and refuses writes while read-only, resumes once writable',
    { timeout: 50_000 },
    async () => {
      const load = await acrossFault(
        store!,
        'ro',
        () => setImmutable(files, true),
        () => setImmutable(files, false),
      );
      await assertRecovered(store!, load, /SQLITE_IOERR|SQLITE_READONLY/);
    },
  );
});

describe('Postgres stopped', { skip: privatePostgresSkip() }, () => {
  let server: PrivatePostgres | undefined;
  let db: TestDatabase;
  let dir: string;
  let store: StoreProcess | undefined;

  before(async () => {
    server = await PrivatePostgres.create();
    db = await createTestDatabase('faults', server.server);
    dir = mkdtempSync(join(tmpdir(), 'cces-pgfault-'));
    const backend = {
      type: 'postgres',
      server: '127.0.0.1',
      port: server.port,
      username: 'postgres',
      database_path: db.name,
      connection_timeout: '1s',
    };
    const config = {
      receivers: {},
      storage: { retention_time: '0', ...STORAGE, backend },
      api: { address: '127.0.0.1', port: 0 },
    };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    store = await StoreProcess.start(join(dir, 'config.json'));
  });

  after(async () => {
    await store?.kill();
    server?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'holds and refuses writes while stopped, resumes after the restart',
    { timeout: 50_000 },
    async () => {
      const load = await acrossFault(
        store!,
        'pg',
        () => server!.stop(),
        () => server!.start(),
      );
      await assertRecovered(store!, load, /CCES_ERR_STORAGE_UNAVAILABLE/);
    },
  );
});
