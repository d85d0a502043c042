/**
 * A conformance driver for the `postgres` storage: each test gets a schema of its own in
 * the configured database (`kit_<pid>_<n>`), dropped after the test.
 *
 * `npm run conformance -- postgres pg.json --driver test/conformance/drivers/postgres-schema.ts`
 */
import pg from 'pg';
import {
  connectionSettings,
  type PostgresConfig,
} from '../../../plugins/storage/postgres/connection.ts';
import type { DriverFactory } from '../driver.ts';

const driver: DriverFactory = ({ config }) => {
  const schemaOf = (n: number) => `kit_${process.pid}_${n}`;
  return {
    configFor: (n, base) => ({ ...base, schema: schemaOf(n) }),
    async cleanupFor(n) {
      const { pool } = connectionSettings(config as PostgresConfig);
      const client = new pg.Client({ connectionString: pool.connectionString });
      await client.connect();
      try {
        // The name is made here from the pid and a counter, never from data.
        await client.query(`DROP SCHEMA IF EXISTS ${schemaOf(n)} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
};

export default driver;
