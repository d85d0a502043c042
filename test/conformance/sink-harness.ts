/**
 * The sink harness: writes batches, flushes and closes a sink, checking the Sink contract:
 * writes resolve (with one outcome per record when they return outcomes), flush is safe at
 * any time, close resolves writes still pending and a second close returns the first's
 * promise. With a driver it also checks what reached the far end.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Logger } from 'pino';
import type { Sink } from '../../core/contracts/sink.ts';
import { createInstance, startWithin } from '../../core/plugin-lifecycle.ts';
import { buildRecord, type EventRecord } from '../../core/record.ts';
import type { ConformanceDriver } from './driver.ts';
import { slotOf, type ConformanceTarget } from './load.ts';

const T0 = 1_735_732_800_000_000_000n;

/** `count` event records named `name`, cluster `kit`, one nanosecond apart. */
export function sinkRecords(count: number, name = 'job'): EventRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const tags = Object.assign(Object.create(null), { cluster: 'kit', seq: String(i) });
    const fields = Object.assign(Object.create(null), { event: `{"jobId":${i}}` });
    const built = buildRecord({ name, tags, fields, time: T0 + BigInt(i) }, 'event', T0);
    if (!built.ok) throw new Error(built.detail);
    return built.record;
  });
}

/** Registers the sink tests for `target`. */
export function sinkConformance(
  target: ConformanceTarget<'sink'>,
  opts: { logger: Logger; driver?: ConformanceDriver; timeoutMs?: number },
): void {
  const { driver, logger } = opts;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const config = driver?.config ?? target.config;

  describe(`sink conformance: ${target.plugin.definition.type}`, () => {
    const open: Sink[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });
    const start = async () => {
      const slot = slotOf(target, config);
      const sink = await createInstance(slot, {
        name: slot.name,
        logger,
        configDir: slot.configDir,
      });
      open.push(sink);
      await startWithin(slot, 'start', () => sink.start?.(), timeoutMs);
      return sink;
    };
    const checkOutcomes = (outcomes: unknown, count: number) => {
      if (outcomes === undefined) return;
      assert.ok(Array.isArray(outcomes), 'write resolves with nothing or with outcomes');
      assert.equal(outcomes.length, count, 'one outcome per record');
    };

    it('takes batches, flushes, and delivers every record once', async () => {
      const sink = await start();
      const [a, b] = [sinkRecords(3), sinkRecords(2, 'alert')];
      checkOutcomes(await sink.write(a), 3);
      checkOutcomes(await sink.write(b), 2);
      await sink.flush();
      if (driver?.delivered) assert.equal((await driver.delivered(5)).length, 5);
      await sink.close();
    });

    it('takes a write before an earlier one resolved', async () => {
      const sink = await start();
      const writes = [sink.write(sinkRecords(2)), sink.write(sinkRecords(2, 'other'))];
      for (const outcomes of await Promise.all(writes)) checkOutcomes(outcomes, 2);
      await sink.flush();
      if (driver?.delivered) assert.equal((await driver.delivered(4)).length, 4);
    });

    it('flushes with nothing buffered', async () => {
      const sink = await start();
      await sink.flush();
      await sink.flush();
    });

    it('resolves a pending write when closed right after it', async () => {
      const sink = await start();
      const pending = sink.write(sinkRecords(4));
      const closing = sink.close();
      checkOutcomes(await pending, 4);
      await closing;
      if (driver?.delivered) assert.equal((await driver.delivered(4)).length, 4);
    });

    it('returns the first close promise from a second close', async () => {
      const sink = await start();
      const first = sink.close();
      assert.equal(sink.close(), first, 'close() called twice returns one promise');
      await first;
    });
  });
}
