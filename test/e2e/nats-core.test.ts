import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connect } from '@nats-io/transport-node';
import sqlitePlugin from '../../plugins/storage/sqlite/index.ts';
import type { Storage } from '../../core/contracts/storage.ts';
import { readSample, sampleNames } from '../helpers/samples.ts';
import { expectedFrom, PrivateNatsServer, storedComparable, waitFor } from '../helpers/nats.ts';
import { StoreProcess, writeStoreConfig } from '../helpers/store-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'cces-e2e-nats-core-'));
const T0 = 1_735_732_800_000_000_000n;
let server: PrivateNatsServer;
let store: StoreProcess | undefined;

before(async () => {
  server = await PrivateNatsServer.start(dir);
});

after(async () => {
  await store?.kill();
  await server?.halt();
  rmSync(dir, { recursive: true, force: true });
});

/** `n` one-line messages of cluster-less events numbered from `from`. */
function sequence(from: number, n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    Buffer.from(`seq,n=${from + i} event="e${from + i}" ${T0 + BigInt(from + i)}\n`),
  );
}

describe('NATS core mode end to end', () => {
  it('stores every sample exactly and resumes by itself after the NATS server restarts', async () => {
    const config = writeStoreConfig(dir, {
      natsin: {
        type: 'nats',
        address: '127.0.0.1',
        port: server.port,
        subscriptions: [
          { subject: 'samples', cluster: 'fallback' },
          { subject: '*.seq', cluster_token: 0 },
        ],
      },
    });
    store = await StoreProcess.start(config);
    const count = (name: string) => store!.counter('receiver:natsin', name);

    const before = sequence(0, 200);
    const samples = sampleNames().map((n) => readSample(n));
    let pub = await connect({ servers: server.url });
    for (const s of samples) pub.publish('samples', s);
    for (const m of before) pub.publish('alpha.seq', m);
    await pub.flush();
    const first = samples.length + before.length;
    await waitFor(async () => (await count('received_msgs')) === first, 'the first messages');
    await pub.close();

    await server.halt();
    await server.resume();
    await waitFor(async () => (await count('reconnects')) === 1, 'the store to reconnect', 30_000);
    const afterRestart = sequence(200, 200);
    pub = await connect({ servers: server.url });
    for (const m of afterRestart) pub.publish('alpha.seq', m);
    await pub.flush();
    await pub.close();
    await waitFor(
      async () => (await count('received_msgs')) === first + afterRestart.length,
      'the rest',
    );

    // The same process took both halves: it never restarted.
    assert.equal(store.proc.exitCode, null);
    const stats = await store.stats();
    assert.equal(await store.stop(), 0);
    store = undefined;
    assert.equal(stats['receiver:natsin']!.disconnects, 1);
    assert.equal(stats['receiver:natsin']!.slow_consumer_drops ?? 0, 0);

    const expected = [
      ...samples.map((s) => expectedFrom(s, 'fallback')),
      ...[...before, ...afterRestart].map((m) => expectedFrom(m, 'alpha')),
    ];
    const storage = (await sqlitePlugin.create(
      { database_path: 'events.db' },
      { name: 'check', logger: pino({ level: 'silent' }), configDir: dir },
    )) as Storage;
    await storage.open();
    try {
      assert.deepEqual(await storedComparable(storage), expected.flatMap((e) => e.records).sort());
      const refused = expected.reduce((n, e) => n + e.refused, 0);
      assert.equal((await storage.stats()).rejected, refused);
    } finally {
      await storage.close();
    }
  });
});
