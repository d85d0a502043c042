import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { pino } from 'pino';
import type { ReceiverContext } from '../../core/contracts/receiver.ts';
import { startHost, type Host } from '../../core/host.ts';
import { ConfigDir, fixtureBuiltins, minimalFilesWithSinks } from '../helpers/config-files.ts';
import { contexts, journal, resetJournal } from '../fixtures/plugins/journal.ts';
import { stored } from '../fixtures/plugins/memory-storage.ts';
import { freePort } from '../helpers/nats.ts';
import { repoRoot } from '../helpers/samples.ts';

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

const recording = { type: 'recording' };
const BEFORE = {
  receivers: { r1: recording, r2: { ...recording, port: 1 }, r3: recording, r9: recording },
  sinks: { s1: { ...recording, match: { kinds: ['event'] } }, s2: recording },
};
const AFTER = {
  receivers: {
    r1: { ...recording, process_messages: { rename_messages: { job: 'renamed' } } },
    r2: { ...recording, port: 2 },
    r3: recording,
    r4: recording,
  },
  sinks: { s1: { ...recording, match: { kinds: ['log'] } }, s3: recording },
};

async function start(files: { receivers: object; sinks: object }): Promise<Host> {
  dir = new ConfigDir({
    ...minimalFilesWithSinks(files.sinks),
    'receivers.json': files.receivers,
  });
  const logger = pino({ level: 'info' }, { write: (l: string) => void logs.push(JSON.parse(l)) });
  host = await startHost(dir.file('config.json'), { builtins: fixtureBuiltins, logger });
  return host;
}

const ctxOf = (name: string) => contexts.get(`receiver:${name}`) as ReceiverContext;

describe('Host.reload swapping plugins', () => {
  it('starts new instances before it stops the old ones and leaves the rest running', async () => {
    await start(BEFORE);
    const r1 = ctxOf('r1');
    const r3 = ctxOf('r3');
    const began = journal.length;
    dir!.write({ 'receivers.json': AFTER.receivers, 'sinks.json': AFTER.sinks });
    dir!.write({ 'storage.json': { backend: { type: 'memory' }, batch_size: 5 } });

    const result = await host!.reload();
    assert.deepEqual(result, {
      ok: true,
      summary: {
        receivers: { added: ['r4'], removed: ['r9'], restarted: ['r2'], rules: ['r1'] },
        sinks: { added: ['s3'], removed: ['s2'], restarted: [], rules: ['s1'] },
        needsRestart: ['storage'],
      },
    });
    assert.deepEqual(journal.slice(began), [
      'receiver:r2 create',
      'receiver:r4 create',
      'sink:s3 start',
      'receiver:r2 start',
      'receiver:r4 start',
      'receiver:r2 stop',
      'receiver:r9 stop',
      'sink:s2 close',
    ]);
    assert.equal(ctxOf('r3'), r3);
    const warn = logs.find((l) => l.msg === 'config change needs a restart; not applied');
    assert.deepEqual([warn?.level, warn?.parts], [40, ['storage']]);
    assert.deepEqual(
      host!.config.receivers.map((s) => s.name),
      ['r1', 'r2', 'r3', 'r4'],
    );

    // r1 kept running with the new rules; s1 now takes logs only, s3 everything.
    const routed = journal.length;
    assert.equal((await r1.ingest('job,cluster=c1,hostname=n1 event="x" 1700000000\n')).stored, 1);
    assert.deepEqual(
      stored.map((r) => r.name),
      ['renamed'],
    );
    assert.deepEqual(journal.slice(routed), ['storage write 1', 'sink:s3 write renamed']);

    const stopping = journal.length;
    await host!.stop();
    assert.deepEqual(journal.slice(stopping), [
      'receiver:r4 stop',
      'receiver:r2 stop',
      'receiver:r3 stop',
      'receiver:r1 stop',
      'api:api stop',
      'sink:s3 close',
      'sink:s1 close',
      'storage close',
    ]);
  });

  it('undoes what it started when a new receiver fails, keeping the old set', async () => {
    await start(BEFORE);
    const began = journal.length;
    const r5 = { ...recording, fail_start: true };
    dir!.write({
      'receivers.json': { ...BEFORE.receivers, r2: { ...recording, port: 2 }, r5 },
      'sinks.json': { ...BEFORE.sinks, s3: recording },
    });

    const result = await host!.reload();
    assert.equal(!result.ok && result.error.code, 'CCES_ERR_PLUGIN_START');
    assert.deepEqual(journal.slice(began), [
      'receiver:r2 create',
      'receiver:r5 create',
      'sink:s3 start',
      'receiver:r2 start',
      'receiver:r5 start',
      'receiver:r5 stop',
      'receiver:r2 stop',
      'sink:s3 close',
    ]);
    assert.equal(host!.stats.get('host', 'reload_failures'), 1);
    assert.deepEqual(
      host!.config.receivers.map((s) => [s.name, s.config]),
      [
        ['r1', {}],
        ['r2', { port: 1 }],
        ['r3', {}],
        ['r9', {}],
      ],
    );

    const stopping = journal.length;
    await host!.stop();
    assert.deepEqual(journal.slice(stopping), [
      'receiver:r9 stop',
      'receiver:r3 stop',
      'receiver:r2 stop',
      'receiver:r1 stop',
      'api:api stop',
      'sink:s2 close',
      'sink:s1 close',
      'storage close',
    ]);
    assert.equal(host!.stopFailures, 0);
  });

  it('refuses a reload once the store is stopping', async () => {
    await start(BEFORE);
    const stopped = host!.stop();
    const result = await host!.reload();
    await stopped;
    assert.equal(!result.ok && result.error.code, 'CCES_ERR_RELOAD_STOPPING');
  });
});

describe('Host.reload of a receiver that holds a port', () => {
  const http = { type: resolve(repoRoot, 'plugins/receivers/http/index.ts'), address: '127.0.0.1' };
  const post = (port: number, body: string) =>
    fetch(`http://127.0.0.1:${port}/write`, { method: 'POST', body });

  it('stops the old instance first when the new one cannot bind beside it', async () => {
    const port = await freePort();
    await start({ receivers: { h: { ...http, port } }, sinks: {} });
    dir!.write({ 'receivers.json': { h: { ...http, port, cluster: 'c9' } } });

    const result = await host!.reload();
    assert.deepEqual(result.ok && result.summary.receivers.restarted, ['h']);
    const warned = logs.filter((l) => l.msg?.toString().startsWith('new receiver cannot start'));
    assert.deepEqual(
      warned.map((l) => [l.receiver, l.code]),
      [['h', 'CCES_ERR_PLUGIN_START']],
    );
    assert.equal((await post(port, 'job,hostname=n1 event="x" 1700000000\n')).status, 204);
    assert.deepEqual(
      stored.map((r) => [r.cluster, r.name]),
      [['c9', 'job']],
    );
  });

  it('starts the old instance again when the new one cannot start at all', async () => {
    const port = await freePort();
    await start({ receivers: { h: { ...http, port, cluster: 'c1' } }, sinks: {} });
    // TEST-NET-3: no interface has this address, so the new instance can never bind.
    dir!.write({ 'receivers.json': { h: { ...http, address: '203.0.113.7', port } } });

    const result = await host!.reload();
    assert.equal(!result.ok && result.error.code, 'CCES_ERR_PLUGIN_START');
    assert.equal((await post(port, 'job,hostname=n1 event="y" 1700000000\n')).status, 204);
    assert.deepEqual(
      stored.map((r) => [r.cluster, r.payload]),
      [['c1', 'y']],
    );
    assert.equal(host!.config.receivers[0]!.config.address, '127.0.0.1');
  });
});
