import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReceiverContext } from '../../../core/contracts/receiver.ts';
import { ingestMessages, joinable } from '../../../plugins/receivers/nats/coalesce.ts';
import { findSubscription, SubjectRoutes } from '../../../plugins/receivers/nats/subscriptions.ts';
import { WorkQueue } from '../../../plugins/receivers/nats/work-queue.ts';
import { openWritePath, readAll } from '../../helpers/nats.ts';

const dir = mkdtempSync(join(tmpdir(), 'cces-nats-coalesce-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const b = (text: string) => Buffer.from(text);

describe('joinable', () => {
  it('takes clean messages and refuses any with an error or a final lone CR', () => {
    assert.equal(joinable(b('job event="a" 1\n')), true);
    assert.equal(joinable(b('job event="a" 1')), true);
    assert.equal(joinable(b('job event="open 1\n')), false);
    assert.equal(joinable(b('job event="a" 1\r')), false);
    assert.equal(joinable(b('job bad\njob event="a" 1\n')), false);
    assert.equal(joinable(b('')), false);
  });
});

describe('ingestMessages', () => {
  it('joins clean messages into one input and keeps a broken one alone, so it swallows nothing', async () => {
    const wp = await openWritePath(join(dir, 'db'));
    const inputs: string[] = [];
    const ingest: ReceiverContext['ingest'] = (input, opts) => {
      inputs.push(input.toString());
      return wp.ctx.ingest(input, opts);
    };
    const bodies = [b('job event="a" 1\n'), b('job event="open 2\n'), b('job event="c" 3')];
    const outcomes = await ingestMessages(ingest, bodies, { cluster: 'c1', precision: 's' });

    assert.deepEqual(outcomes, [undefined, undefined, undefined]);
    assert.deepEqual(inputs, ['job event="open 2\n', 'job event="a" 1\njob event="c" 3\n']);
    const events = await readAll(wp.storage, 'event');
    assert.deepEqual(
      events.map((e) => [e.payload, e.time]),
      [
        ['a', 1_000_000_000n],
        ['c', 3_000_000_000n],
      ],
    );
    const rejected = await wp.storage.listRejected(10);
    assert.deepEqual(
      rejected.map((r) => [r.line, r.raw]),
      [[1, 'job event="open 2']],
    );
    await wp.close();
  });

  it('gives each message the outcome of the call that carried it', async () => {
    const failure = Object.assign(new Error('full'), { code: 'CCES_ERR_INGEST_OVERLOADED' });
    const ingest: ReceiverContext['ingest'] = async (input) => {
      if (input.toString().includes('open')) throw failure;
      return { received: 1, stored: 1, duplicates: 0, skipped: 0, rejected: [] };
    };
    const outcomes = await ingestMessages(
      ingest,
      [b('j e="a" 1'), b('j e="open'), b('j e="b" 2')],
      {},
    );
    assert.deepEqual(outcomes, [undefined, failure, undefined]);
  });
});

describe('WorkQueue', () => {
  it('batches waiting items of one key up to the item and byte limits', async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue<string>(
      async (batch) => {
        batches.push(batch);
        await gate;
      },
      { concurrency: 1, maxPending: 100, maxPendingBytes: 1000, maxBatch: 3, maxBatchBytes: 25 },
    );
    q.push('first', 10, 'a');
    for (const [item, key] of [
      ['a1', 'a'],
      ['a2', 'a'],
      ['b1', 'b'],
      ['b2', 'b'],
      ['b3', 'b'],
      ['b4', 'b'],
      ['a3', 'a'],
    ] as const) {
      q.push(item, 10, key);
    }
    assert.equal(q.waiting, 7);
    release();
    await q.idle();
    assert.deepEqual(batches, [['first'], ['a1', 'a2'], ['b1', 'b2'], ['b3', 'b4'], ['a3']]);
  });

  it('refuses items beyond maxPending and tells when there is room again', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new WorkQueue<number>(() => gate, {
      concurrency: 1,
      maxPending: 2,
      maxPendingBytes: 1 << 20,
      maxBatch: 1,
      maxBatchBytes: 1 << 20,
    });
    assert.deepEqual(
      [1, 2, 3, 4].map((i) => q.push(i, 1)),
      [true, true, true, false],
    );
    let roomy = false;
    const room = q.room(1).then(() => (roomy = true));
    assert.equal(roomy, false);
    release();
    await room;
    assert.equal(q.push(5, 1), true);
    await q.idle();
  });
});

describe('SubjectRoutes', () => {
  const specs = [
    { subject: 'a.*.events', cluster_token: 1 },
    { subject: 'b.>', cluster: 'bee', precision: 's' as const },
  ];

  it('gives each subject the options of its first matching subscription, else the defaults', () => {
    const routes = new SubjectRoutes((s) => findSubscription(specs, s), {
      cluster: 'dflt',
      precision: 'ms',
    });
    assert.deepEqual(routes.of('a.fritz.events'), {
      opts: { cluster: 'fritz', precision: 'ms' },
      key: 'fritz\u0000ms',
    });
    assert.deepEqual(routes.of('b.x.y'), {
      opts: { cluster: 'bee', precision: 's' },
      key: 'bee\u0000s',
    });
    assert.deepEqual(routes.of('c'), {
      opts: { cluster: 'dflt', precision: 'ms' },
      key: 'dflt\u0000ms',
    });
    assert.equal(routes.of('a.fritz.events'), routes.of('a.fritz.events'));
  });

  it('stays right past the number of subjects it remembers', () => {
    const routes = new SubjectRoutes((s) => findSubscription(specs, s), {});
    for (let i = 0; i < 25_000; i++) {
      assert.equal(routes.of(`a.c${i}.events`).opts.cluster, `c${i}`);
    }
    assert.equal(routes.of('a.c7.events').key, 'c7\u0000');
  });
});
