/**
 * The example plugins pass the conformance kit, loaded by path as a third-party plugin is:
 * the JSON-lines storage (the shared storage suite), the tail receiver (fed by appending to
 * its file) and the webhook sink (delivered to a local server); and the webhook's bounded
 * queue refuses what does not fit, by code.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { conformance, sinkRecords, type DriverFactory } from '../../conformance/kit.ts';
import { createLogger } from '../../../core/logger.ts';
import { WebhookSink } from '../../../plugins/examples/webhook-sink/webhook-sink.ts';
import { ConfigDir } from '../../helpers/config-files.ts';
import { repoRoot } from '../../helpers/samples.ts';

const dir = new ConfigDir({
  'jsonl.json': { path: 'data' },
  'tail.json': { path: 'in.lp', poll_interval: '10ms', start_at: 'end' },
  'webhook.json': { url: 'http://127.0.0.1:9/unused', retry_delay: '10ms' },
});
after(() => dir.remove());
const examples = join(repoRoot, 'plugins/examples');

/** A local HTTP server that takes every POST and remembers the records. */
const arrived = new EventEmitter();
let records: unknown[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    res.writeHead(204).end();
    records.push(...(JSON.parse(body) as { records: unknown[] }).records);
    arrived.emit('post');
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
after(() => server.close());
const hookUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;

const webhookDriver: DriverFactory = ({ config }) => ({
  config: { ...config, url: hookUrl },
  async delivered(count) {
    while (records.length < count) await once(arrived, 'post');
    const got = records;
    records = [];
    return got;
  },
});

const tailDriver: DriverFactory = ({ config }) => {
  const file = join(dir.path, config.path as string);
  writeFileSync(file, '');
  return {
    send: async (text) => appendFileSync(file, text),
    failingConfig: { ...config, path: 'no-such-folder/in.lp' },
  };
};

await conformance(join(examples, 'jsonl-storage/index.ts'), dir.file('jsonl.json'));
await conformance(join(examples, 'tail-receiver'), dir.file('tail.json'), { driver: tailDriver });
await conformance(join(examples, 'webhook-sink/index.ts'), dir.file('webhook.json'), {
  driver: webhookDriver,
});

describe('webhook sink queue', () => {
  it('refuses a batch that does not fit with CCES_ERR_INGEST_OVERLOADED', async () => {
    const opts = { headers: {}, timeoutMs: 1000, maxRetries: 0, retryDelayMs: 1, maxQueue: 3 };
    const sink = new WebhookSink({ ...opts, url: hookUrl }, createLogger({ level: 'silent' }));
    const first = sink.write(sinkRecords(2));
    assert.equal(sink.queued, 2);
    await assert.rejects(sink.write(sinkRecords(2)), {
      code: 'CCES_ERR_INGEST_OVERLOADED',
      message: 'webhook queue full (2 of 3 records)',
    });
    await first;
    assert.equal(sink.queued, 0);
    await sink.close();
    await assert.rejects(sink.write(sinkRecords(1)), { code: 'CCES_ERR_INGEST_CLOSED' });
    records = [];
  });
});
