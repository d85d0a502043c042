// The SQLite checkpointer, run in a worker thread (plain JS, so it loads the same way
// whether the store runs under tsx's CLI, its register() API or a build). With its own
// connection it copies committed WAL frames into the database file (PASSIVE checkpoints,
// which never block the writer), so that work and its fsyncs leave the ingest thread.
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const { path, synchronous, intervalMs } = workerData;
const db = new Database(path, { fileMustExist: true });
db.pragma(`synchronous = ${synchronous}`);
// Only the main connection checkpoints on its own, as the safety net.
db.pragma('wal_autocheckpoint = 0');

let stopped = false;
let failures = 0;

function checkpoint() {
  if (stopped) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
  } catch (err) {
    if (failures++ === 0) parentPort.postMessage({ error: String(err?.message ?? err) });
  }
  setTimeout(checkpoint, intervalMs);
}

parentPort.on('message', (msg) => {
  if (msg !== 'close') return;
  stopped = true;
  db.close();
  parentPort.close();
});
setTimeout(checkpoint, intervalMs);
parentPort.postMessage('ready');
