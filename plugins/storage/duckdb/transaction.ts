/**
 * Transactions and appenders that leave nothing behind when they fail.
 */
import type { DuckDBAppender, DuckDBConnection } from '@duckdb/node-api';

/**
 * Runs `work` inside one transaction on `conn` and commits; rolls back and rethrows when it
 * or the commit fails. The caller serialises calls on the connection.
 */
export async function inTransaction<T>(conn: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const result = await work();
    await conn.run('COMMIT');
    return result;
  } catch (err) {
    // A failed statement may have ended the transaction already; the first error counts.
    await conn.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Opens an appender on `table`, lets `fill` append rows, and flushes them into the
 * connection's current transaction. When `fill` or the flush throws, the pending rows are
 * discarded before the error goes on: closing an appender flushes what it holds, and so does
 * the garbage collector when it destroys an abandoned one, which would write a failed
 * batch's rows outside its transaction.
 */
export async function appendRows(
  conn: DuckDBConnection,
  table: string,
  fill: (appender: DuckDBAppender) => void,
): Promise<void> {
  const appender = await conn.createAppender(table);
  try {
    fill(appender);
    appender.closeSync();
  } catch (err) {
    appender.clear();
    try {
      appender.closeSync();
    } catch {
      // Nothing is pending after clear(); a second failure adds nothing to the first.
    }
    throw err;
  }
}
