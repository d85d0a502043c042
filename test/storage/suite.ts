/**
 * The shared storage suite: behaviour every Storage backend must show, exercised through the
 * Storage contract only, with exact expected values. A backend runs it from its test file:
 *
 * ```ts
 * storageSuite('sqlite', async () => ({ storage, reopen, cleanup }));
 * ```
 *
 * `make` gives a fresh, empty, opened storage for each test. `reopen` closes the current
 * instance (if still open) and resolves with a new, opened instance over the same data;
 * `cleanup` closes whatever is open and removes the data.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe } from 'node:test';
import type { Storage } from '../../core/contracts/storage.ts';
import type { EventRecord } from '../../core/record.ts';
import { fixture } from './records.ts';
import { STORED, type SuiteContext } from './suite-context.ts';
import { lifecycleTests } from './suite-lifecycle.ts';
import { queryTests } from './suite-query.ts';
import { writeTests } from './suite-write.ts';

/** What the suite needs of a backend under test. */
export interface StorageUnderTest {
  storage: Storage;
  reopen: () => Promise<Storage>;
  cleanup: () => Promise<void>;
}

/** Registers the suite's tests under `describe('storage suite: <name>')`. */
export function storageSuite(name: string, make: () => Promise<StorageUnderTest>): void {
  describe(`storage suite: ${name}`, () => {
    let sut: StorageUnderTest;
    let storage: Storage;
    beforeEach(async () => {
      sut = await make();
      storage = sut.storage;
    });
    afterEach(async () => {
      await sut.cleanup();
    });

    const writeAll = async (records: EventRecord[]) => {
      const expected = records.map(() => STORED);
      assert.deepEqual(await storage.write(records), expected);
    };
    const t: SuiteContext = {
      storage: () => storage,
      reopen: async () => (storage = await sut.reopen()),
      query: (q) => storage.query({ kind: 'event', order: 'asc', limit: 1000, ...q }),
      writeAll,
      writeFixture: async () => {
        const { events, logs } = fixture();
        await writeAll(events);
        await writeAll(logs);
        return { events, logs };
      },
    };
    writeTests(t);
    queryTests(t);
    lifecycleTests(t);
  });
}
