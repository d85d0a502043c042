/**
 * The Sink contract: takes routed messages out of the store. The storage manager is a sink;
 * others republish, forward or notify.
 */
import type { WriteOutcome } from './storage.ts';
import type { EventRecord } from '../record.ts';

/**
 * A sink. The router calls `write` with the records its match rules chose; `write` may be
 * called again before an earlier call resolved.
 */
export interface Sink {
  /** Connects. Called once, before the first write. Optional. */
  start?(): Promise<void>;

  /**
   * Takes a batch and resolves when the sink holds it as durably as it can (for the storage
   * manager: committed). May return per-record outcomes. Rejects with
   * `CCES_ERR_INGEST_OVERLOADED` when it cannot take more now.
   */
  write(batch: readonly EventRecord[]): Promise<WriteOutcome[] | void>;

  /** Pushes out whatever is buffered. Safe to call at any time. */
  flush(): Promise<void>;

  /** Flushes and releases. Safe to call twice; the second call returns the first's promise. */
  close(): Promise<void>;
}
