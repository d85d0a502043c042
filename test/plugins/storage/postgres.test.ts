/**
 * The shared storage suite on Postgres: one database for this file, one schema per test.
 */
import { after, before, describe } from 'node:test';
import type { Storage } from '../../../core/contracts/storage.ts';
import { createLogger } from '../../../core/logger.ts';
import plugin from '../../../plugins/storage/postgres/index.ts';
import { createTestDatabase, SHARED, type TestDatabase } from '../../helpers/postgres.ts';
import { postgresSkip } from '../../helpers/services.ts';
import { storageSuite } from '../../storage/suite.ts';

const logger = createLogger({ level: 'silent' });
const skip = await postgresSkip();

describe('postgres', { skip }, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('suite');
  });
  after(async () => {
    await db?.drop();
  });

  let n = 0;
  const open = async (schema: string) => {
    const storage = await plugin.create(
      {
        server: SHARED.host,
        port: SHARED.port,
        username: SHARED.user,
        database_path: db.name,
        schema,
      },
      { name: 'storage', logger, configDir: '/' },
    );
    await storage.open();
    return storage;
  };

  storageSuite('postgres', async () => {
    const schema = `suite_${n++}`;
    let current: Storage = await open(schema);
    return {
      storage: current,
      reopen: async () => {
        await current.close();
        current = await open(schema);
        return current;
      },
      cleanup: async () => {
        await current.close();
        await db.exec(`DROP SCHEMA ${schema} CASCADE`);
      },
    };
  });
});
