import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { WriteOutcome } from '../../core/contracts/storage.ts';
import { WriteQueue } from '../../core/write-queue.ts';
import { rec, T0 } from '../storage/records.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const STORED: WriteOutcome = { status: 'stored' };

describe('WriteQueue', () => {
  it('hands out batches across writers, answering each once all of it committed', async () => {
    const q = new WriteQueue();
    const records = (n: number, label: string) =>
      Array.from({ length: n }, (_, i) =>
        rec('event', 'ev', { cluster: 'c', label }, 'x', T0 + BigInt(i)),
      );
    const a = q.push(records(3, 'a'));
    const b = q.push(records(2, 'b'));
    const first = q.take(4);
    assert.deepEqual(
      first.map((s) => [s.start, s.end]),
      [
        [0, 3],
        [0, 1],
      ],
    );
    assert.equal(q.depth, 5);
    q.commit(first, [STORED, STORED, STORED, STORED]);
    assert.equal(q.depth, 1);
    assert.equal((await a).length, 3);
    const second = q.take(4);
    assert.deepEqual(
      second.map((s) => [s.start, s.end]),
      [[1, 2]],
    );
    q.commit(second, [{ status: 'duplicate' }]);
    assert.deepEqual(await b, [STORED, { status: 'duplicate' }]);
    assert.equal(q.depth, 0);
  });

  it('keeps no answered writer alive while later writers still wait', async () => {
    const q = new WriteQueue();
    // Built in a function, so that nothing here refers to the records afterwards.
    const answered = (): WeakRef<object> => {
      const records = [rec('event', 'ev', { cluster: 'c', label: 'done' }, 'x', T0)];
      q.push(records);
      // A later writer keeps the queue from emptying, as under steady load.
      void q.push([rec('event', 'ev', { cluster: 'c', label: 'waiting' }, 'x', T0 + 1n)]);
      const slices = q.take(1);
      q.commit(slices, [STORED]);
      return new WeakRef(records);
    };
    const ref = answered();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.equal(ref.deref(), undefined);
    assert.equal(q.depth, 1);
  });
});
