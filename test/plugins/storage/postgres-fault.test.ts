/**
 * Fault test: a private Postgres instance stopped for 30 s during ingest through the storage
 * manager. Writers are held, then refused with CCES_ERR_INGEST_OVERLOADED (HTTP 503), the
 * storage reports not ready, ingest resumes by itself after the restart, and every
 * acknowledged event is in the database exactly once.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { hasCode } from '../../../core/errors.ts';
import { createLogger } from '../../../core/logger.ts';
import type { EventRecord } from '../../../core/record.ts';
import { Stats } from '../../../core/stats.ts';
import { StorageManager } from '../../../core/storage-manager.ts';
import { nowNanos } from '../../../core/time.ts';
import plugin from '../../../plugins/storage/postgres/index.ts';
import type { PostgresStorage } from '../../../plugins/storage/postgres/postgres-storage.ts';
import {
  createTestDatabase,
  PrivatePostgres,
  privatePostgresSkip,
  type TestDatabase,
} from '../../helpers/postgres.ts';
import { rec } from '../../storage/records.ts';

const OUTAGE_MS = 30_000;
const WRITERS = 80;
const PER_WRITE = 50;
const MAX_QUEUE = 3000;

/** Resolves once `check` is true, polling every 50 ms; fails after `ms`. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('postgres storage when the server goes away', { skip: privatePostgresSkip() }, () => {
  let server: PrivatePostgres;
  let db: TestDatabase;
  let storage: PostgresStorage;
  let manager: StorageManager;
  const stats = new Stats();
  const logger = createLogger({ level: 'silent' });

  before(async () => {
    server = await PrivatePostgres.create();
    db = await createTestDatabase('fault', server.server);
    const config = {
      server: '127.0.0.1',
      port: server.port,
      username: 'postgres',
      database_path: db.name,
      connection_timeout: '1s',
    };
    storage = (await plugin.create(config, {
      name: 'storage',
      logger,
      configDir: '/',
    })) as PostgresStorage;
    await storage.open();
    manager = new StorageManager(
      storage,
      {
        batchSize: 1000,
        flushTimeMs: 50,
        maxQueue: MAX_QUEUE,
        retentionNs: 0n,
        retentionIntervalMs: 3_600_000,
        retentionChunk: 1000,
        rejectedMaxCount: 1000,
        rejectedMaxAgeNs: 3_600_000_000_000n,
      },
      { logger, stats },
    );
    await manager.start();
  });

  after(async () => {
    await manager?.close();
    await storage?.close();
    server?.destroy();
  });

  it(
    'holds and refuses writes while stopped 30 s, recovers, keeps every acknowledged event once',
    { timeout: 120_000 },
    async (t) => {
      const acked = new Map<string, EventRecord>();
      let overloaded = 0;
      const otherErrors: unknown[] = [];
      let running = true;
      let seq = 0;
      const base = nowNanos();

      const writer = async (w: number) => {
        while (running) {
          const batch = Array.from({ length: PER_WRITE }, () => {
            const i = seq++;
            return rec(
              'event',
              'ev',
              { cluster: 'c', hostname: `node${w}`, label: `${i}` },
              `e${i}`,
              base + BigInt(i),
            );
          });
          try {
            const outcomes = await manager.write(batch);
            outcomes.forEach((o, i) => {
              assert.notEqual(o.status, 'rejected');
              acked.set(`${batch[i]!.time}:${batch[i]!.key}`, batch[i]!);
            });
          } catch (err) {
            if (hasCode(err, 'CCES_ERR_INGEST_OVERLOADED')) overloaded++;
            else otherErrors.push(err);
            await sleep(100);
          }
        }
      };
      const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));

      await until('ingest before the stop', () => acked.size >= 5000);
      server.stop();
      const stoppedAt = Date.now();
      await until('not ready', async () => !(await storage.ready()));
      assert.equal(await manager.ready(), false);
      const ackedWhileDown = acked.size;
      await until('writers refused with overload', () => overloaded > 0);
      await sleep(OUTAGE_MS - (Date.now() - stoppedAt));
      assert.equal(acked.size, ackedWhileDown, 'nothing acknowledged while the server is down');
      assert.ok(manager.queueDepth > 0 && manager.queueDepth <= MAX_QUEUE);

      server.start();
      await until('ready again', () => storage.ready());
      await until('ingest after the restart', () => acked.size >= ackedWhileDown + 5000);
      running = false;
      await Promise.all(writers);
      await manager.flush();

      assert.deepEqual(otherErrors, []);
      const res = await db.exec('SELECT time::text AS t, key::text AS k FROM events');
      t.diagnostic(
        `acknowledged ${acked.size} (${ackedWhileDown} before the stop), ` +
          `overloaded refusals ${overloaded}, stored rows ${res.rows.length}`,
      );
      const stored = new Set(res.rows.map((r) => `${r.t}:${r.k}`));
      assert.equal(stored.size, res.rows.length, 'no event stored twice');
      const missing = [...acked.keys()].filter((k) => !stored.has(k));
      assert.deepEqual(missing, [], 'every acknowledged event is stored');
      assert.ok(overloaded > 0);
      assert.equal(stats.get('storage', 'stored') + stats.get('storage', 'duplicates'), acked.size);
    },
  );
});
