/**
 * The example plugins started by the real host from config/examples/site-plugins.json: the
 * tail receiver reads appended and rotated lines, the JSON-lines storage keeps them across
 * a restart, the webhook sink POSTs the matching events (retrying a 503), and the API
 * extension answers from storage. A plugin built for another contract version is refused.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startHost, type Host } from '../../../core/host.ts';
import { createLogger } from '../../../core/logger.ts';
import { repoRoot } from '../../helpers/samples.ts';

const example = resolve(repoRoot, 'config/examples/site-plugins.json');
const dir = mkdtempSync(join(tmpdir(), 'cces-examples-'));
const logger = createLogger({ level: 'silent' });
const T0 = 1_735_732_800_000_000_000n;

/** The webhook's far end: answers 503 to the first POST, 204 after. */
const hook = new EventEmitter();
const posts: { records: { name: string; payload: string; time: string }[] }[] = [];
let attempts = 0;
let server: Server;

/** The example config with its places moved into the temp folder and ports made free. */
function writeConfig(extra: (cfg: any) => void = () => {}): string {
  const cfg = JSON.parse(readFileSync(example, 'utf8'));
  const abs = (p: string) => resolve(dirname(example), p);
  const tail = cfg.receivers['collector-file'];
  tail.type = abs(tail.type);
  tail.path = join(dir, 'collector.lp');
  tail.poll_interval = '20ms';
  cfg.storage.backend.type = abs(cfg.storage.backend.type);
  cfg.storage.backend.path = join(dir, 'jsonl');
  cfg.storage.flush_time = '10ms';
  // The test's events are from 2025: retention must not remove them on the restart.
  cfg.storage.retention_time = '0';
  cfg.sinks.alerts.type = abs(cfg.sinks.alerts.type);
  cfg.sinks.alerts.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  cfg.sinks.alerts.retry_delay = '10ms';
  cfg.api.port = 0;
  cfg.api.extensions[0].path = abs(cfg.api.extensions[0].path);
  extra(cfg);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(cfg));
  return file;
}

async function latest(host: Host, cluster: string) {
  const { port } = host.apiAddress()!;
  const res = await fetch(`http://127.0.0.1:${port}/api/site/latest?cluster=${cluster}`);
  assert.equal(res.status, 200);
  return (await res.json()) as { events: { name: string; payload: string }[] };
}

function lp(name: string, payload: string, dt: bigint, host = 'n1'): string {
  return `${name},cluster=c1,hostname=${host} event="${payload}" ${T0 + dt}\n`;
}

describe('example plugins from config/examples/site-plugins.json', () => {
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req
        .on('data', (d) => (body += d))
        .on('end', () => {
          res.statusCode = attempts++ === 0 ? 503 : 204;
          res.end();
          if (res.statusCode === 204) hook.emit('post', posts.push(JSON.parse(body)));
        });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    writeFileSync(join(dir, 'collector.lp'), lp('job', 'before start', 0n));
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tails, stores, forwards alerts and answers the site route, across rotation', async (t) => {
    const host = await startHost(writeConfig(), { logger });
    t.after(() => host.stop());
    const delivered = (n: number) =>
      (async () => {
        while (posts.length < n) await once(hook, 'post');
      })();

    appendFileSync(join(dir, 'collector.lp'), lp('job', 'start', 1n) + lp('alert', 'hot', 2n));
    await delivered(1);
    assert.deepEqual(
      posts[0]!.records.map((r) => [r.name, r.payload, r.time]),
      [['alert', 'hot', String(T0 + 2n)]],
    );
    assert.equal(attempts, 2, 'the first POST got 503 and was retried');

    appendFileSync(join(dir, 'collector.lp'), lp('job', 'old file tail', 3n));
    renameSync(join(dir, 'collector.lp'), join(dir, 'collector.lp.1'));
    writeFileSync(join(dir, 'collector.lp'), lp('alert', 'after rotation', 4n));
    await delivered(2);
    assert.deepEqual(
      posts[1]!.records.map((r) => r.payload),
      ['after rotation'],
    );

    const body = await latest(host, 'c1');
    assert.deepEqual(
      body.events.map((e) => e.payload),
      ['after rotation', 'old file tail', 'hot', 'start'],
    );
    assert.equal(host.stats.get('receiver:collector-file', 'stored'), 4);
    await host.stop();
    assert.equal(host.stopFailures, 0);

    const again = await startHost(writeConfig(), { logger });
    try {
      assert.equal((await latest(again, 'c1')).events.length, 4, 'kept across a restart');
    } finally {
      await again.stop();
    }
  });

  it('refuses a plugin built for another contract version at start', async () => {
    const oldPlugin = resolve(repoRoot, 'test/fixtures/plugins/old-contract.ts');
    const file = writeConfig((cfg) => (cfg.receivers.old = { type: oldPlugin }));
    await assert.rejects(startHost(file, { logger }), (err: { code?: string; message: string }) => {
      assert.equal(err.code, 'CCES_ERR_PLUGIN_CONTRACT_VERSION');
      assert.equal(
        err.message,
        `plugin contract version not supported in ${file} at /receivers/old/type ` +
          `(resolved path ${oldPlugin}): expected a contract range that includes 1.2.0, ` +
          'found the range "^0.9.0"; use a version of the plugin built for contract 1.x',
      );
      return true;
    });
  });
});
