/**
 * The JSON-lines storage: the scaffold's in-memory storage, with every change appended to a
 * journal file before it counts, and the journal replayed on open.
 */
import { resolve } from 'node:path';
import {
  createError,
  extraToJson,
  queryRecords,
  type EventRecord,
  type PluginFactoryContext,
  type QueryPage,
  type RecordKind,
  type RejectedItem,
  type Storage,
  type StorageQuery,
  type StorageStats,
  type StoredRecord,
  type StoredRejectedItem,
  type WriteOutcome,
} from '../../../core/index.ts';
import { Journal, type Entry } from './journal.ts';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A JSON-lines storage over one data folder. */
export class JsonlStorage implements Storage {
  readonly #journal: Journal;
  readonly #ctx: PluginFactoryContext;
  /** Records by id, and the (time, key) of each for duplicates. */
  #records = new Map<bigint, StoredRecord>();
  #identities = new Set<string>();
  #rejected: StoredRejectedItem[] = [];
  #nextId = 1n;
  #closing: Promise<void> | undefined;

  constructor(path: string, ctx: PluginFactoryContext) {
    this.#journal = new Journal(resolve(ctx.configDir, path));
    this.#ctx = ctx;
  }

  async open(): Promise<void> {
    try {
      for (const entry of await this.#journal.replay()) this.#apply(entry);
      await this.#journal.rewrite(this.#live());
    } catch (err) {
      const file = this.#journal.file;
      throw createError('CCES_ERR_STORAGE_OPEN', `cannot open journal ${file}`, { file }, err);
    }
    const { size } = this.#records;
    this.#ctx.logger.info({ file: this.#journal.file, records: size }, 'journal open');
  }

  async write(batch: readonly EventRecord[]): Promise<WriteOutcome[]> {
    const seen = new Set<string>();
    const entries: Entry[] = [];
    const outcomes = batch.map((r): WriteOutcome => {
      if (r.time < INT64_MIN || r.time > INT64_MAX) {
        return { status: 'rejected', reason: 'time outside the int64 range' };
      }
      const identity = `${r.time}:${r.key}`;
      if (this.#identities.has(identity) || seen.has(identity)) return { status: 'duplicate' };
      seen.add(identity);
      const extra = r.extra && JSON.parse(extraToJson(r.extra));
      entries.push({ t: 'rec', r: { ...r, extra, id: this.#nextId + BigInt(entries.length) } });
      return { status: 'stored' };
    });
    await this.#commit(entries);
    return outcomes;
  }

  async query(q: StorageQuery): Promise<QueryPage> {
    return queryRecords(this.#records.values(), q);
  }

  async deleteBefore(kind: RecordKind, before: bigint, limit: number): Promise<number> {
    const old = [...this.#records.values()]
      .filter((r) => r.kind === kind && r.time < before)
      .sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
      .slice(0, limit);
    await this.#commit([{ t: 'del', ids: old.map((r) => r.id) }]);
    return old.length;
  }

  async writeRejected(items: readonly RejectedItem[]): Promise<void> {
    const last = this.#rejected[this.#rejected.length - 1]?.id ?? 0n;
    const entries = items.map((it, i): Entry => ({
      t: 'rej',
      r: { ...it, id: last + 1n + BigInt(i) },
    }));
    await this.#commit(entries);
  }

  async listRejected(limit: number, beforeId?: bigint): Promise<StoredRejectedItem[]> {
    const older = this.#rejected.filter((r) => beforeId === undefined || r.id < beforeId);
    return older.reverse().slice(0, limit);
  }

  async pruneRejected(keep: number, before: bigint): Promise<number> {
    // Items are in id order: those before `cut` are beyond the newest `keep`.
    const cut = Math.max(0, this.#rejected.length - keep);
    const gone = this.#rejected.filter((r, i) => i < cut || r.receivedAt < before);
    await this.#commit([{ t: 'prune', ids: gone.map((r) => r.id) }]);
    return gone.length;
  }

  async stats(): Promise<StorageStats> {
    let events = 0;
    for (const r of this.#records.values()) if (r.kind === 'event') events++;
    return { events, logs: this.#records.size - events, rejected: this.#rejected.length };
  }

  close(): Promise<void> {
    this.#closing ??= this.#journal.close();
    return this.#closing;
  }

  /** Appends entries, then applies them: a query sees all of a call or none of it. */
  async #commit(entries: Entry[]): Promise<void> {
    if (this.#closing) throw createError('CCES_ERR_STORAGE_UNAVAILABLE', 'the storage is closed');
    const real = entries.filter((e) => e.t === 'rec' || e.t === 'rej' || e.ids.length > 0);
    try {
      await this.#journal.append(real);
    } catch (err) {
      const file = this.#journal.file;
      throw createError('CCES_ERR_STORAGE_WRITE', `cannot append to ${file}`, { file }, err);
    }
    for (const e of real) this.#apply(e);
  }

  #apply(e: Entry): void {
    if (e.t === 'rec') {
      this.#records.set(e.r.id, e.r);
      this.#identities.add(`${e.r.time}:${e.r.key}`);
      if (e.r.id >= this.#nextId) this.#nextId = e.r.id + 1n;
    } else if (e.t === 'rej') {
      this.#rejected.push(e.r);
    } else if (e.t === 'del') {
      for (const id of e.ids) {
        const r = this.#records.get(id);
        if (r) this.#identities.delete(`${r.time}:${r.key}`);
        this.#records.delete(id);
      }
    } else {
      const ids = new Set(e.ids);
      this.#rejected = this.#rejected.filter((r) => !ids.has(r.id));
    }
  }

  /** The entries that rebuild the current state; ids are kept. */
  #live(): Entry[] {
    const recs = [...this.#records.values()].map((r): Entry => ({ t: 'rec', r }));
    return [...recs, ...this.#rejected.map((r): Entry => ({ t: 'rej', r }))];
  }
}
