/**
 * What the shared storage suite's test groups share: the storage under test and helpers.
 */
import type {
  QueryPage,
  Storage,
  StorageQuery,
  StoredRejectedItem,
  WriteOutcome,
} from '../../core/contracts/storage.ts';
import type { EventRecord } from '../../core/record.ts';

/** Handles the test groups get; `storage()` is the current instance (it changes on reopen). */
export interface SuiteContext {
  storage(): Storage;
  /** Closes the current instance and opens a new one over the same data. */
  reopen(): Promise<Storage>;
  /** An event query, ascending, limit 1000, with `q` laid over. */
  query(q: Partial<StorageQuery>): Promise<QueryPage>;
  /** Writes records that must all be stored. */
  writeAll(records: EventRecord[]): Promise<void>;
  /** Writes the fixed data set of `records.ts`. */
  writeFixture(): Promise<{ events: EventRecord[]; logs: EventRecord[] }>;
}

export const STORED: WriteOutcome = { status: 'stored' };
export const DUPLICATE: WriteOutcome = { status: 'duplicate' };

/** The three counts of `stats()`, without the optional byte size. */
export async function counts(storage: Storage) {
  const { events, logs, rejected } = await storage.stats();
  return { events, logs, rejected };
}

/** A rejected item without its id, optional fields present as undefined. */
export function plainRejected(r: StoredRejectedItem) {
  return {
    raw: r.raw,
    reason: r.reason,
    source: r.source,
    line: r.line,
    column: r.column,
    receivedAt: r.receivedAt,
  };
}
