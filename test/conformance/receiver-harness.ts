/**
 * The receiver harness: starts a receiver with a context backed by the real write path into
 * a temp SQLite database, and checks the lifecycle of the Receiver contract. With a driver
 * it also feeds the receiver over its own transport and reads the records back.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { Logger } from 'pino';
import type { Receiver } from '../../core/contracts/receiver.ts';
import { createInstance, startWithin } from '../../core/plugin-lifecycle.ts';
import type { ConformanceDriver, PluginConfig } from './driver.ts';
import { slotOf, type ConformanceTarget } from './load.ts';
import { openWritePath, type WritePath } from './write-path.ts';

/** 2025-01-01T12:00:00Z in ns. */
const T0 = 1_735_732_800_000_000_000n;

/** What the driver sends: two events, a log and a metric (which is not stored). */
export const RECEIVER_INPUT =
  `job,cluster=kit,hostname=n1 event="start" ${T0}\n` +
  `job,cluster=kit,hostname=n2 event="stop" ${T0 + 1n}\n` +
  `ccb,cluster=kit,hostname=n1,loglevel=info log="hello" ${T0 + 2n}\n` +
  `cpu_load,cluster=kit,hostname=n1 value=1.5 ${T0 + 3n}\n`;

/** Registers the receiver tests for `target`. */
export function receiverConformance(
  target: ConformanceTarget<'receiver'>,
  opts: { logger: Logger; driver?: ConformanceDriver; timeoutMs?: number },
): void {
  const { driver, logger } = opts;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const config = driver?.config ?? target.config;

  describe(`receiver conformance: ${target.plugin.definition.type}`, () => {
    let path: WritePath;
    const started: Receiver[] = [];
    beforeEach(async () => {
      path = await openWritePath(`conformance-${target.plugin.definition.type}`, logger);
    });
    afterEach(async () => {
      await Promise.all(started.splice(0).map((r) => r.stop()));
      await path.close();
    });

    const create = async (cfg: PluginConfig) => {
      const slot = slotOf(target, cfg);
      const receiver = await createInstance(slot, {
        name: slot.name,
        logger,
        configDir: slot.configDir,
      });
      return { slot, receiver };
    };
    const start = async (cfg: PluginConfig) => {
      const { slot, receiver } = await create(cfg);
      started.push(receiver);
      await startWithin(slot, 'start', () => receiver.start(path.ctx), timeoutMs);
      return receiver;
    };

    it('starts, and a second stop returns the first stop promise', async () => {
      const receiver = await start(config);
      const first = receiver.stop();
      assert.equal(receiver.stop(), first, 'stop() called twice returns one promise');
      await first;
    });

    it(
      'ingests what the driver sends and stops after answering it',
      {
        skip: driver?.send ? false : 'no driver with send()',
      },
      async () => {
        const receiver = await start(config);
        await driver!.send!(RECEIVER_INPUT);
        await path.waitForStored(3, timeoutMs);
        await receiver.stop();
        const q = { order: 'asc', limit: 10 } as const;
        const events = await path.storage.query({ ...q, kind: 'event' });
        const logs = await path.storage.query({ ...q, kind: 'log' });
        const seen = (r: { cluster: string; name: string; payload: string; time: bigint }) => [
          r.cluster,
          r.name,
          r.payload,
          r.time - T0,
        ];
        assert.deepEqual(events.records.map(seen), [
          ['kit', 'job', 'start', 0n],
          ['kit', 'job', 'stop', 1n],
        ]);
        assert.deepEqual(logs.records.map(seen), [['kit', 'ccb', 'hello', 2n]]);
      },
    );

    it(
      'surfaces a failing start as a coded error',
      {
        skip: driver?.failingConfig ? false : 'no driver with failingConfig',
      },
      async () => {
        const failing = driver!.failingConfig!;
        const cfg = typeof failing === 'function' ? await failing() : failing;
        await assert.rejects(start(cfg), (err: { code?: string; cause?: { code?: unknown } }) => {
          assert.equal(err.code, 'CCES_ERR_PLUGIN_START');
          assert.match(String(err.cause?.code), /^CCES_ERR_/, 'the plugin throws a coded error');
          return true;
        });
      },
    );
  });
}
