// The SQLite writer, run in a worker thread (plain JS for the reason given in
// checkpoint-worker.mjs). The main thread decodes and builds records and turns them into
// statement parameters; this thread inserts them, one transaction per batch, on its own
// connection, so that decoding the next input and inserting this one use both cores.
// Batches are taken one at a time in the order they arrive; a reply is sent only after its
// commit has returned, so an answered batch is as durable as the connection's `synchronous`
// setting makes it.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, busyTimeoutMs, synchronous, cacheSize, autocheckpoint, insertSql } = workerData;
// Errors that concern one statement only; anything else aborts the batch.
const ROW_ERRORS = new Set(workerData.rowErrors);
const db = new Database(path, { fileMustExist: true, timeout: busyTimeoutMs });
db.pragma(`synchronous = ${synchronous}`);
db.pragma(`cache_size = ${Math.trunc(cacheSize)}`);
db.pragma('journal_size_limit = 67108864');
if (autocheckpoint !== undefined) db.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
const insert = [db.prepare(insertSql.event), db.prepare(insertSql.log)];

// Outcome codes of the reply: 0 stored, 1 duplicate, 2 rejected (reason in `reasons`).
const writeBatch = db.transaction((kinds, rows, outcomes, reasons) => {
  for (let i = 0; i < rows.length; i++) {
    try {
      outcomes[i] = insert[kinds[i]].run(...rows[i]).changes === 1 ? 0 : 1;
    } catch (err) {
      if (err?.code === undefined || !ROW_ERRORS.has(err.code)) throw err;
      outcomes[i] = 2;
      reasons[i] = err.code.toLowerCase();
    }
  }
});

parentPort.on('message', (msg) => {
  if (msg === 'close') {
    db.close();
    parentPort.close();
    return;
  }
  const { id, kinds, rows } = msg;
  const outcomes = new Uint8Array(rows.length);
  const reasons = {};
  try {
    writeBatch.immediate(kinds, rows, outcomes, reasons);
    parentPort.postMessage({ id, outcomes, reasons }, [outcomes.buffer]);
  } catch (err) {
    parentPort.postMessage({
      id,
      error: { code: err?.code, message: String(err?.message ?? err) },
    });
  }
});
// The connection is open and the statements prepared: the main thread's open() may return.
parentPort.postMessage('ready');
