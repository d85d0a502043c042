/**
 * Overload, short form: ~10 s of many writers against a tiny queue on SQLite. The store's
 * RSS stays under 400 MiB, refused writes get 503 with Retry-After, and every acknowledged
 * event is stored exactly once.
 */
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { storedIds } from './crash.ts';
import { removeHardenedStore, startHardenedStore, type HardenedStore } from './harness.ts';
import { overload } from './overload.ts';

/** The bound the store's RSS must stay under during the run. */
const RSS_BOUND_MIB = 400;
let h: HardenedStore;

before(async () => {
  h = await startHardenedStore({
    backend: 'sqlite',
    storage: { max_queue: 2000, batch_size: 500, flush_time: '1ms' },
  });
});

after(() => removeHardenedStore(h));

it('refuses with 503 and Retry-After, stays bounded, and loses nothing acknowledged', async () => {
  const r = await overload(h.store, { writers: 24, batch: 1000, ms: 8000 });
  assert.ok((r.status[503] ?? 0) > 0, `some writes were refused: ${JSON.stringify(r.status)}`);
  assert.ok((r.status[204] ?? 0) > 0, `some writes went through: ${JSON.stringify(r.status)}`);
  assert.deepEqual(Object.keys(r.status).sort(), ['204', '503']);
  assert.equal(r.missingRetryAfter, 0);
  assert.ok(r.peakRssMiB < RSS_BOUND_MIB, `peak RSS ${r.peakRssMiB} MiB`);

  const seen = await storedIds(h.store);
  assert.equal(seen.size, r.acknowledgedIds.length);
  for (const id of r.acknowledgedIds) assert.equal(seen.get(id), 1, id);
  assert.equal((await fetch(`${h.store.api}/readyz`)).status, 200);
});
