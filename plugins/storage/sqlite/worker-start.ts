/**
 * The start signal of the plugin's worker threads: each posts `'ready'` once its connection
 * is open.
 */
import type { Worker } from 'node:worker_threads';

/** Resolves true once `worker` posts `'ready'`, false if it fails or exits first. */
export function workerStarted(worker: Worker): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (ok: boolean) => {
      worker.off('message', onMessage);
      worker.off('error', onFailure);
      worker.off('exit', onFailure);
      resolve(ok);
    };
    const onMessage = (msg: unknown) => {
      if (msg === 'ready') settle(true);
    };
    const onFailure = () => settle(false);
    worker.on('message', onMessage);
    worker.on('error', onFailure);
    worker.on('exit', onFailure);
  });
}
