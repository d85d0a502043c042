/**
 * The built-in plugins pass the conformance kit: the storages sqlite, duckdb and postgres
 * (a fresh database on 127.0.0.1:5432, a schema per test) and the http receiver, each
 * loaded by its type name with the real loader and its config checked by its schema.
 */
import { after } from 'node:test';
import { ConfigDir } from '../helpers/config-files.ts';
import { createTestDatabase, SHARED } from '../helpers/postgres.ts';
import { postgresSkip } from '../helpers/services.ts';
import { conformance } from '../../test/conformance/kit.ts';
import httpDriver from './drivers/http-receiver.ts';
import postgresDriver from './drivers/postgres-schema.ts';

const dir = new ConfigDir({
  'sqlite.json': { type: 'sqlite', database_path: 'data/events.db' },
  'duckdb.json': { database_path: 'data/events.duckdb', threads: 2 },
  'http.json': { port: 1 },
});
after(() => dir.remove());

await conformance('sqlite', dir.file('sqlite.json'));
await conformance('duckdb', dir.file('duckdb.json'));
await conformance('http', dir.file('http.json'), { driver: httpDriver });

if ((await postgresSkip()) === false) {
  const db = await createTestDatabase('kit');
  after(() => db.drop());
  const { host, port, user } = SHARED;
  dir.write({
    'postgres.json': { server: host, port, username: user, database_path: db.name },
  });
  await conformance('postgres', dir.file('postgres.json'), { driver: postgresDriver });
}
