/**
 * Crash safety, short form: two rounds of SIGKILL under sustained HTTP load on SQLite;
 * every acknowledged event is stored exactly once. The long form is
 * scripts/hardening/crash-rounds.ts.
 */
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { StoreProcess } from '../helpers/store-process.ts';
import { runCrashRounds } from './crash.ts';
import { writeHardenedConfig } from './harness.ts';

const paths = writeHardenedConfig({ backend: 'sqlite' });
let last: StoreProcess | undefined;

after(async () => {
  await last?.kill();
  rmSync(paths.dir, { recursive: true, force: true });
});

it('keeps every acknowledged HTTP write exactly once across two SIGKILLs', async () => {
  const opts = {
    configPath: paths.configPath,
    ingest: { kind: 'http' } as const,
    writers: 4,
    batch: 50,
    killAfterMs: [400, 1200] as [number, number],
    seed: 8,
  };
  const { tally, store } = await runCrashRounds(opts, 2);
  last = store;
  assert.ok(tally.acknowledged > 0, 'some writes were acknowledged');
  assert.equal(tally.found, tally.acknowledged);
  assert.equal(tally.lost, 0);
  assert.equal(tally.duplicated, 0);
});
