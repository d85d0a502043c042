import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from 'typebox/value';
import { DuckDbConfigSchema } from '../../../plugins/storage/duckdb/index.ts';
import { closeDatabase, openDatabase } from '../../../plugins/storage/duckdb/database.ts';
import { migrate, MIGRATIONS, SCHEMA_VERSION } from '../../../plugins/storage/duckdb/schema.ts';
import { appendRows, inTransaction } from '../../../plugins/storage/duckdb/transaction.ts';

async function tables(conn: DuckDBConnection): Promise<string[]> {
  const sql = 'SELECT table_name FROM information_schema.tables ORDER BY table_name';
  return (await conn.runAndReadAll(sql)).getRows().map((r) => r[0] as string);
}

describe('duckdb schema, settings and transactions', () => {
  let instance: DuckDBInstance;
  let conn: DuckDBConnection;
  before(async () => {
    instance = await DuckDBInstance.create(':memory:');
    conn = await instance.connect();
  });
  after(() => {
    conn.closeSync();
    instance.closeSync();
  });

  it('migrates a new database to the current version and leaves other tables alone', async () => {
    await conn.run('CREATE TABLE site_notes (note VARCHAR)');
    assert.equal(await migrate(conn), 0);
    assert.deepEqual(await tables(conn), [
      'events',
      'logs',
      'rejected',
      'schema_version',
      'site_notes',
    ]);
    assert.equal(await migrate(conn), SCHEMA_VERSION);
  });

  it('rolls a failing migration back whole and says which version failed', async () => {
    const steps = [
      ...MIGRATIONS,
      { version: SCHEMA_VERSION + 1, statements: ['CREATE TABLE half (a INT)', 'NOT SQL'] },
    ];
    await assert.rejects(migrate(conn, steps), {
      code: 'CCES_ERR_STORAGE_OPEN',
      message:
        `migrating the database to schema version ${SCHEMA_VERSION + 1} failed: ` +
        'Parser Error: syntax error at or near "NOT"',
    });
    assert.ok(!(await tables(conn)).includes('half'));
    const version = (await conn.runAndReadAll('SELECT version FROM schema_version')).getRows();
    assert.deepEqual(version, [[SCHEMA_VERSION]]);
  });

  it('discards the rows of a failed append, in a transaction or not', async () => {
    await conn.run('CREATE TABLE t (b BIGINT)');
    const fill = (a: DuckDBAppender) => {
      a.appendBigInt(1n);
      a.endRow();
      a.appendBigInt(2n);
      a.endRow();
      throw new Error('record 3 is bad');
    };
    await assert.rejects(
      inTransaction(conn, () => appendRows(conn, 't', fill)),
      /record 3/,
    );
    await assert.rejects(appendRows(conn, 't', fill), /record 3/);
    // An appender left to the collector would flush its rows now, outside any rollback.
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    await conn.run('CREATE TABLE later (x INT)');
    assert.deepEqual((await conn.runAndReadAll('SELECT count(*) FROM t')).getRows(), [[0n]]);
  });

  it('says why a database cannot be opened: not a DuckDB file, or its folder a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cces-duckdb-open-'));
    try {
      const text = join(dir, 'notes.txt');
      writeFileSync(text, 'not a database\n'.repeat(500));
      await assert.rejects(openDatabase({ path: text }), {
        code: 'CCES_ERR_STORAGE_OPEN',
        message:
          `cannot open the DuckDB database ${text}: ` +
          `IO Error: The file "${text}" exists, but it is not a valid DuckDB database file!`,
      });
      const under = join(text, 'db.duckdb');
      await assert.rejects(openDatabase({ path: under }), {
        code: 'CCES_ERR_STORAGE_OPEN',
        message:
          `cannot open the DuckDB database ${under}: ` +
          `EEXIST: file already exists, mkdir '${text}'`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('applies threads, memory_limit and checkpoint_threshold from the config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cces-duckdb-settings-'));
    try {
      const db = await openDatabase({
        path: join(dir, 'a', 'b', 'db.duckdb'),
        threads: 1,
        memoryLimit: '300MB',
        checkpointThreshold: '32MB',
      });
      const sql =
        "SELECT current_setting('threads'), current_setting('memory_limit')," +
        " current_setting('checkpoint_threshold')";
      const [row] = (await db.reader.runAndReadAll(sql)).getRows();
      assert.equal(row![0], 1n);
      assert.match(String(row![1]), /^286\.1 MiB$/);
      assert.match(String(row![2]), /^30\.5 MiB$/);
      await closeDatabase(db);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('accepts DuckDB sizes in the config and refuses other values and unknown keys', () => {
    const ok = { database_path: 'x.duckdb', memory_limit: '2GB', checkpoint_threshold: '1.5 GiB' };
    assert.ok(Value.Check(DuckDbConfigSchema, ok));
    assert.ok(!Value.Check(DuckDbConfigSchema, { database_path: 'x', memory_limit: '2 lots' }));
    assert.ok(!Value.Check(DuckDbConfigSchema, { database_path: 'x', threads: 0 }));
    assert.ok(!Value.Check(DuckDbConfigSchema, { database_path: 'x', wal: true }));
    assert.ok(!Value.Check(DuckDbConfigSchema, { database_path: '' }));
  });
});
