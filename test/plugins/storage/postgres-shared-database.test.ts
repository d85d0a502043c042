/**
 * Several Postgres storages on one schema, as several store processes run on one database:
 * their partition maintenance runs at the same moments and must not fail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../../core/logger.ts';
import { nowNanos } from '../../../core/time.ts';
import plugin from '../../../plugins/storage/postgres/index.ts';
import { DAY_NS, dayOf } from '../../../plugins/storage/postgres/partitions.ts';
import type { PostgresStorage } from '../../../plugins/storage/postgres/postgres-storage.ts';
import { createTestDatabase, SHARED, type TestDatabase } from '../../helpers/postgres.ts';
import { postgresSkip } from '../../helpers/services.ts';
import { rec } from '../../storage/records.ts';

const skip = await postgresSkip();

describe('postgres storages sharing one database', { skip }, () => {
  let db: TestDatabase;
  const opened: PostgresStorage[] = [];

  before(async () => {
    db = await createTestDatabase('pgshared');
  });
  after(async () => {
    for (const s of opened) await s.close();
    await db?.drop();
  });

  async function open(): Promise<PostgresStorage> {
    const config = {
      server: SHARED.host,
      port: SHARED.port,
      username: SHARED.user,
      database_path: db.name,
    };
    const ctx = { name: 'storage', logger: createLogger({ level: 'silent' }), configDir: '/' };
    const storage = (await plugin.create(config, ctx)) as PostgresStorage;
    await storage.open();
    opened.push(storage);
    return storage;
  }

  it('run retention at the same time: each old partition is dropped once, none fails', async () => {
    const [a, b] = [await open(), await open()];
    const today = dayOf(nowNanos());
    const days = [3, 4, 5, 6].map((d) => today - d);
    const events = days.flatMap((day) =>
      [1n, 2n, 3n].map((i) =>
        rec('event', 'ev', { cluster: 'c' }, `d${day}`, BigInt(day) * DAY_NS + i),
      ),
    );
    const cutoff = BigInt(today - 2) * DAY_NS;

    // Several rounds, as the race between the two passes does not lose every time.
    for (let round = 0; round < 5; round++) {
      const outcomes = await a.write(events);
      assert.deepEqual(new Set(outcomes.map((o) => o.status)), new Set(['stored']));
      assert.deepEqual(
        a.partitions.days('event').filter((d) => d < today - 2),
        [...days].reverse(),
      );
      const deleted = await Promise.all([
        a.deleteBefore('event', cutoff, 1000),
        b.deleteBefore('event', cutoff, 1000),
      ]);
      assert.equal(deleted[0] + deleted[1], events.length, `round ${round}: ${deleted}`);
      const left = await db.exec('SELECT count(*)::int AS n FROM events');
      assert.equal(left.rows[0].n, 0);
      for (const s of [a, b]) {
        assert.deepEqual(
          s.partitions.days('event').filter((d) => d < today - 2),
          [],
        );
      }
    }
  });
});
