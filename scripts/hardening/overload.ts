/**
 * Long-form overload: `node --import tsx scripts/hardening/overload.ts [--seconds 60]
 * [--writers 24] [--batch-size 50] [--writer-thread on|off] [--synchronous FULL|NORMAL]`.
 * Many writers against a tiny queue on SQLite with `synchronous: FULL` by default (every
 * commit synced, a stand-in for a slow disk); prints the answers
 * by status, offered against stored, the peak RSS of the store, and whether every
 * acknowledged event is stored exactly once.
 */
import { parseArgs } from 'node:util';
import { storedIds } from '../../test/hardening/crash.ts';
import { removeHardenedStore, startHardenedStore } from '../../test/hardening/harness.ts';
import { overload } from '../../test/hardening/overload.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    writers: { type: 'string', default: '24' },
    'batch-size': { type: 'string', default: '50' },
    'writer-thread': { type: 'string', default: 'on' },
    synchronous: { type: 'string', default: 'FULL' },
  },
});
const out = (line: string) => process.stdout.write(`${line}\n`);
const h = await startHardenedStore({
  backend: 'sqlite',
  storage: { max_queue: 2000, batch_size: Number(values['batch-size']), flush_time: '1ms' },
  backendExtra: {
    synchronous: values.synchronous,
    writer_thread: values['writer-thread'] !== 'off',
  },
});
const r = await overload(h.store, {
  writers: Number(values.writers),
  batch: 1000,
  ms: Number(values.seconds) * 1000,
});
const seen = await storedIds(h.store);
const lost = r.acknowledgedIds.filter((id) => !seen.has(id)).length;
const duplicated = [...seen.values()].filter((n) => n > 1).length;
out(`requests ${r.requests}, by status ${JSON.stringify(r.status)}`);
const offered = r.requests * 1000;
out(
  `events offered ${offered}, acknowledged ${r.acknowledgedIds.length} ` +
    `(offered/acknowledged ${(offered / Math.max(r.acknowledgedIds.length, 1)).toFixed(1)}x)`,
);
out(`503 without Retry-After: ${r.missingRetryAfter}`);
out(`peak RSS of the store: ${r.peakRssMiB.toFixed(0)} MiB`);
out(`stored ${seen.size}, lost ${lost}, duplicated ${duplicated}`);
await removeHardenedStore(h);
process.exit(lost === 0 && duplicated === 0 && r.missingRetryAfter === 0 ? 0 : 1);
