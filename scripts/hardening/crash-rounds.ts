/**
 * Long-form crash safety: `node --import tsx scripts/hardening/crash-rounds.ts
 * --backend sqlite|postgres|duckdb --ingest http|jetstream --rounds 20`. Kills the store with
 * SIGKILL at random moments under sustained load, restarts it, and prints rounds, events
 * sent, acknowledged, found, lost, duplicated and peak RSS. `--store-heap-mb N` runs the
 * store with V8's old space capped at N MiB, to show that its memory is bounded rather than
 * merely collected late.
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createTestDatabase } from '../../test/helpers/postgres.ts';
import { runCrashRounds, type CrashIngest } from '../../test/hardening/crash.ts';
import {
  heapCapEnv,
  jetstreamReceiver,
  writeHardenedConfig,
  type Backend,
} from '../../test/hardening/harness.ts';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'sqlite' },
    ingest: { type: 'string', default: 'http' },
    rounds: { type: 'string', default: '20' },
    writers: { type: 'string', default: '4' },
    batch: { type: 'string', default: '100' },
    'store-heap-mb': { type: 'string' },
  },
});
const backend = values.backend as Backend;
const rounds = Number(values.rounds);
const out = (line: string) => process.stdout.write(`${line}\n`);

const db = backend === 'postgres' ? await createTestDatabase('crash') : undefined;
const tag = `cccrash${Date.now().toString(36)}`;
const receivers = values.ingest === 'jetstream' ? jetstreamReceiver(tag, { ack_wait: '2s' }) : {};
const paths = writeHardenedConfig({ backend, pgDatabase: db?.name, receivers });
const nc = values.ingest === 'jetstream' ? await connect({ servers: '127.0.0.1:4222' }) : undefined;
const ingest: CrashIngest =
  nc === undefined ? { kind: 'http' } : { kind: 'jetstream', nc, subject: `${tag}.events` };

out(
  `crash rounds: backend=${backend} ingest=${values.ingest} rounds=${rounds}` +
    (values['store-heap-mb'] ? ` store heap cap ${values['store-heap-mb']} MiB` : ''),
);
const started = Date.now();
const { tally, store } = await runCrashRounds(
  {
    configPath: paths.configPath,
    ingest,
    writers: Number(values.writers),
    batch: Number(values.batch),
    killAfterMs: [300, 2500],
    seed: 20261203,
    env: heapCapEnv(values['store-heap-mb']),
  },
  rounds,
  (t) =>
    out(
      `round ${t.rounds}: sent ${t.sent}, acknowledged ${t.acknowledged}, found ${t.found}, ` +
        `lost ${t.lost}, duplicated ${t.duplicated}, peak RSS ${t.peakRssMiB.toFixed(0)} MiB`,
    ),
);
out(`result: ${JSON.stringify(tally)} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

await store.stop();
if (nc !== undefined) {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(tag.toUpperCase()).catch(() => false);
  await nc.close();
}
await db?.drop();
rmSync(paths.dir, { recursive: true, force: true });
process.exit(tally.lost === 0 && tally.duplicated === 0 ? 0 : 1);
