import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { Storage } from '../../../core/contracts/storage.ts';
import { createLogger } from '../../../core/logger.ts';
import plugin from '../../../plugins/storage/duckdb/index.ts';
import { storageSuite } from '../../storage/suite.ts';

const logger = createLogger({ level: 'silent' });
const root = mkdtempSync(join(tmpdir(), 'cces-duckdb-suite-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
async function openAt(configDir: string): Promise<Storage> {
  const storage = await plugin.create(
    { database_path: 'data/events.duckdb', threads: 2 },
    { name: 'storage', logger, configDir },
  );
  await storage.open();
  return storage;
}

storageSuite('duckdb', async () => {
  const dir = join(root, `suite-${n++}`);
  let current = await openAt(dir);
  return {
    storage: current,
    reopen: async () => {
      await current.close();
      current = await openAt(dir);
      return current;
    },
    cleanup: async () => {
      await current.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
