import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { ApiContext } from '../../core/contracts/api.ts';
import type { ReceiverContext } from '../../core/contracts/receiver.ts';
import { startHost, type Host } from '../../core/host.ts';
import { BUILTINS } from '../../plugins/builtins.ts';
import { ConfigDir, fixtureBuiltins, fixturesDir, minimalFiles } from '../helpers/config-files.ts';
import { contexts, journal, resetJournal } from '../fixtures/plugins/journal.ts';
import { stored } from '../fixtures/plugins/memory-storage.ts';

let dir: ConfigDir | undefined;
let host: Host | undefined;
let logs: Record<string, unknown>[] = [];

beforeEach(() => {
  resetJournal();
  stored.length = 0;
  logs = [];
});
afterEach(async () => {
  await host?.stop();
  host = undefined;
  dir?.remove();
});

const logger = () =>
  pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });

function start(files: Record<string, unknown>, startTimeoutMs = 2000) {
  dir = new ConfigDir({ ...minimalFiles(), ...files });
  return startHost(dir.file('config.json'), {
    builtins: fixtureBuiltins,
    logger: logger(),
    startTimeoutMs,
  });
}

const twoOfEach = (r2: Record<string, unknown> = {}) => ({
  'config.json': {
    receivers: 'receivers.json',
    storage: 'storage.json',
    api: 'api.json',
    sinks: {
      s1: { type: 'recording', match: { kinds: ['event'] } },
      s2: { type: 'recording', match: { kinds: ['log'] } },
    },
  },
  'receivers.json': { r1: { type: 'recording' }, r2: { type: 'recording', ...r2 } },
});

const STARTED = [
  'receiver:r1 create',
  'receiver:r2 create',
  'storage open',
  'sink:s1 start',
  'sink:s2 start',
  'api:api start',
  'receiver:r1 start',
  'receiver:r2 start',
];

describe('startHost', () => {
  it('starts storage, sinks, api and receivers in order and stops them the other way', async () => {
    host = await start(twoOfEach());
    assert.deepEqual(journal, STARTED);
    assert.deepEqual(host.apiAddress(), { host: '127.0.0.1', port: 1 });

    await host.stop();
    assert.deepEqual(journal.slice(STARTED.length), [
      'receiver:r2 stop',
      'receiver:r1 stop',
      'api:api stop',
      'sink:s2 close',
      'sink:s1 close',
      'storage close',
    ]);
    assert.equal(host.stopFailures, 0);
  });

  it('returns the first promise from a second stop and stops once', async () => {
    host = await start(twoOfEach());
    const first = host.stop();
    assert.equal(host.stop(), first);
    await first;
    assert.equal(journal.filter((l) => l === 'storage close').length, 1);
  });

  it('wires ingest from receivers and the API through router and storage manager', async () => {
    host = await start(twoOfEach());
    const rctx = contexts.get('receiver:r1') as ReceiverContext;
    const result = await rctx.ingest('job,cluster=c1,hostname=n1 event="start" 1700000000\n');
    assert.deepEqual(result, { received: 1, stored: 1, duplicates: 0, skipped: 0, rejected: [] });
    assert.deepEqual(
      stored.map((r) => [r.kind, r.cluster, r.name, r.time, r.payload]),
      [['event', 'c1', 'job', 1_700_000_000_000_000_000n, 'start']],
    );

    const actx = contexts.get('api') as ApiContext;
    const again = await actx.ingest('job,cluster=c1,hostname=n1 event="start" 1700000000\n');
    assert.equal(again.duplicates, 1);
    assert.equal(await actx.ready(), true);
    assert.equal(actx.stats()['receiver:r1']?.stored, 1);
    assert.equal(actx.stats().api?.duplicates, 1);
    assert.deepEqual(actx.extensions, []);
    rctx.count('reconnects', 2);
    assert.equal(host.stats.get('receiver:r1', 'reconnects'), 2);

    await host.stop();
    assert.ok(journal.indexOf('sink:s1 write job') < journal.indexOf('sink:s1 close'));
    assert.equal(journal.filter((l) => l.startsWith('sink:s2 write')).length, 0);
  });

  it('gives each plugin its own child logger', async () => {
    host = await start(twoOfEach());
    const started = logs.filter((l) => l.msg === 'receiver started');
    assert.deepEqual(
      started.map((l) => [l.kind, l.plugin, l.type]),
      [
        ['receiver', 'r1', 'recording'],
        ['receiver', 'r2', 'recording'],
      ],
    );
    const summary = logs.find((l) => l.msg === 'store started')!;
    assert.equal(summary.receivers, 2);
    assert.equal(summary.sinks, 2);
  });

  it('stops what started when a receiver fails to start, then throws', async () => {
    await assert.rejects(start(twoOfEach({ fail_start: true })), {
      code: 'CCES_ERR_PLUGIN_START',
      message: `receiver "r2" failed to start in ${dir!.file('receivers.json')} at /r2 (resolved path ${fixturesDir}/recording-receiver.ts): expected start() to succeed, found an error: port already taken; correct the config entry or what it points to (address, port, file, server)`,
    });
    assert.deepEqual(journal.slice(STARTED.length), [
      'receiver:r2 stop',
      'receiver:r1 stop',
      'api:api stop',
      'sink:s2 close',
      'sink:s1 close',
      'storage close',
    ]);
  });

  it('fails start-up when a plugin does not start in time', async () => {
    const began = Date.now();
    await assert.rejects(start(twoOfEach({ hang_start: true }), 100), {
      code: 'CCES_ERR_PLUGIN_START_TIMEOUT',
      message: `receiver "r2" did not start in time in ${dir!.file('receivers.json')} at /r2 (resolved path ${fixturesDir}/recording-receiver.ts): expected start() to finish within 100 ms, found it still pending when the time was up; check that what it connects to answers (server address, port, credentials)`,
    });
    assert.ok(Date.now() - began < 2000);
    assert.equal(journal.at(-1), 'storage close');
    assert.ok(journal.includes('receiver:r1 stop'));
  });

  it('closes storage when it fails to open, starting nothing else', async () => {
    await assert.rejects(
      start({ 'storage.json': { backend: { type: 'memory', fail_open: true } } }),
      {
        code: 'CCES_ERR_PLUGIN_START',
      },
    );
    assert.deepEqual(journal, ['storage open', 'storage close']);
  });

  it('opens nothing when a factory throws', async () => {
    const files = { 'receivers.json': { r1: { type: `${fixturesDir}/create-throws.ts` } } };
    await assert.rejects(start(files), { code: 'CCES_ERR_PLUGIN_CREATE' });
    assert.deepEqual(journal, []);
  });
});

describe('startHost with the SQLite built-in', () => {
  it('stores through a receiver and finds the record again after a restart', async () => {
    dir = new ConfigDir({
      'config.json': { receivers: 'receivers.json', storage: 'storage.json', api: 'api.json' },
      'receivers.json': { r1: { type: `${fixturesDir}/recording-receiver.ts` } },
      'storage.json': { backend: { type: 'sqlite', database_path: 'data/events.db' } },
      'api.json': { port: 0 },
    });
    const opts = { logger: pino({ level: 'silent' }), builtins: BUILTINS };
    host = await startHost(dir.file('config.json'), opts);
    const rctx = contexts.get('receiver:r1') as ReceiverContext;
    const line = 'log,cluster=c2,hostname=n7,level=warn log="disk 91% full" 1700000000123456789\n';
    assert.equal((await rctx.ingest(line)).stored, 1);
    await host.stop();

    host = await startHost(dir.file('config.json'), opts);
    const api = host.apiAddress();
    assert.equal(api?.host, '127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${api!.port}/api/v1/logs?cluster=c2&from=0`);
    const body = (await res.json()) as { items: Record<string, unknown>[]; next_cursor: unknown };
    assert.equal(res.status, 200);
    assert.equal(body.items.length, 1);
    const { received_at: receivedAt, ...item } = body.items[0]!;
    assert.match(String(receivedAt), /^\d{19}$/);
    assert.deepEqual(item, {
      name: 'log',
      cluster: 'c2',
      tags: { hostname: 'n7', level: 'warn' },
      payload: 'disk 91% full',
      extra: {},
      time: '1700000000123456789',
      timestamp: 1700000000.1234567,
      rfc3339: '2023-11-14T22:13:20.123456789Z',
    });
  });
});
