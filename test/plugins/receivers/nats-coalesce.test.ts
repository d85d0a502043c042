import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReceiverContext } from '../../../core/contracts/receiver.ts';
import { ingestMessages } from '../../../plugins/receivers/nats/coalesce.ts';
import { findSubscription, SubjectRoutes } from '../../../plugins/receivers/nats/subscriptions.ts';
import { WorkQueue } from '../../../plugins/receivers/nats/work-queue.ts';
import { openWritePath, readAll } from '../../helpers/nats.ts';

const dir = mkdtempSync(join(tmpdir(), 'cces-nats-coalesce-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const b = (text: string) => Buffer.from(text);

describe('ingestMessages', () => {
  it('hands messages over as one list: a broken one swallows nothing of the next', async () => {
    const wp = await openWritePath(join(dir, 'db'));
    const inputs: unknown[] = [];
    const ingest: ReceiverContext['ingest'] = (input, opts) => {
      inputs.push(Array.isArray(input) ? input.map(String) : String(input));
      return wp.ctx.ingest(input, opts);
    };
    const bodies = [b('job event="a" 1\n'), b('job event="open 2\n'), b('job event="c" 3')];
    const outcome = await ingestMessages(ingest, bodies, { cluster: 'c1', precision: 's' });

    assert.equal(outcome, undefined);
    assert.deepEqual(inputs, [['job event="a" 1\n', 'job event="open 2\n', 'job event="c" 3']]);
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

  it('hands one message over as it is; answers with the error of a failed call', async () => {
    const failure = Object.assign(new Error('full'), { code: 'CCES_ERR_INGEST_OVERLOADED' });
    const inputs: unknown[] = [];
    const ingest: ReceiverContext['ingest'] = async (input) => {
      inputs.push(input);
      if (Array.isArray(input)) throw failure;
      return { received: 1, stored: 1, duplicates: 0, skipped: 0, rejected: [] };
    };
    const one = b('j e="a" 1');
    assert.equal(await ingestMessages(ingest, [one], {}), undefined);
    assert.equal(await ingestMessages(ingest, [one, b('j e="b" 2')], {}), failure);
    assert.equal(inputs[0], one);
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
