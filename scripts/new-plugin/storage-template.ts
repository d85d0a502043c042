/**
 * The `index.ts` a new storage plugin starts from: a complete Storage that answers queries
 * from memory (`queryRecords`) and keeps every change in a JSON-lines file (`data-file.ts`),
 * so it passes the whole conformance kit, persistence across a reopen included.
 */

/** The storage plugin module for `name`, importing the SDK from `sdk`. */
export function storageIndex(name: string, sdk: string): string {
  return `/**
 * The \`${name}\` storage plugin. It holds records and refused input in memory and appends
 * every change to \`data.jsonl\` in its \`path\` folder before the change counts; \`open\`
 * reads the file back. Fine for a small site and for tests; to store more, replace the file
 * and the maps with your database and keep what each method promises.
 */
import { join, resolve } from 'node:path';
import {
  createError,
  definePlugin,
  Type,
  type Static,
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
} from '${sdk}';
import { DataFile, type Change } from './data-file.ts';

/** The config schema: every key the plugin reads, with its meaning. */
export const ConfigSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'data folder, relative to the config file' }),
  },
  { additionalProperties: false },
);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** The storage instance. */
export class ${pascal(name)}Storage implements Storage {
  readonly #file: DataFile;
  /** Records by their identity, \`time:key\`, which finds duplicates. */
  readonly #records = new Map<string, StoredRecord>();
  #rejected: StoredRejectedItem[] = [];
  #nextId = 1n;
  #nextRejectedId = 1n;
  #closing: Promise<void> | undefined;

  constructor(config: Static<typeof ConfigSchema>, ctx: PluginFactoryContext) {
    this.#file = new DataFile(join(resolve(ctx.configDir, config.path), 'data.jsonl'));
  }

  async open(): Promise<void> {
    const { path } = this.#file;
    try {
      for (const change of await this.#file.read()) this.#apply(change);
      await this.#file.rewrite(this.#live());
    } catch (err) {
      throw createError('CCES_ERR_STORAGE_OPEN', \`cannot open \${path}\`, { path }, err);
    }
  }

  async write(batch: readonly EventRecord[]): Promise<WriteOutcome[]> {
    const changes: Change[] = [];
    const seen = new Set<string>();
    const outcomes = batch.map((r): WriteOutcome => {
      if (r.time < INT64_MIN || r.time > INT64_MAX) {
        return { status: 'rejected', reason: 'time outside the int64 range' };
      }
      const identity = \`\${r.time}:\${r.key}\`;
      if (this.#records.has(identity) || seen.has(identity)) return { status: 'duplicate' };
      seen.add(identity);
      // Extra fields come back as parsed JSON (integers as JSON numbers), as every backend's.
      const extra = r.extra && JSON.parse(extraToJson(r.extra));
      changes.push({ op: 'record', record: { ...r, extra, id: this.#nextId++ } });
      return { status: 'stored' };
    });
    await this.#commit(changes);
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
    if (old.length > 0) await this.#commit([{ op: 'delete', ids: old.map((r) => r.id) }]);
    return old.length;
  }

  async writeRejected(items: readonly RejectedItem[]): Promise<void> {
    const id = () => this.#nextRejectedId++;
    await this.#commit(items.map((item) => ({ op: 'rejected', item: { ...item, id: id() } })));
  }

  async listRejected(limit: number, beforeId?: bigint): Promise<StoredRejectedItem[]> {
    const older = this.#rejected.filter((r) => beforeId === undefined || r.id < beforeId);
    return older.reverse().slice(0, limit);
  }

  async pruneRejected(keep: number, before: bigint): Promise<number> {
    // Items are in id order: those before \`cut\` are beyond the newest \`keep\`.
    const cut = Math.max(0, this.#rejected.length - keep);
    const gone = this.#rejected.filter((r, i) => i < cut || r.receivedAt < before);
    if (gone.length > 0) await this.#commit([{ op: 'prune', ids: gone.map((r) => r.id) }]);
    return gone.length;
  }

  async stats(): Promise<StorageStats> {
    let events = 0;
    for (const r of this.#records.values()) if (r.kind === 'event') events++;
    const logs = this.#records.size - events;
    return { events, logs, rejected: this.#rejected.length };
  }

  close(): Promise<void> {
    this.#closing ??= this.#file.close();
    return this.#closing;
  }

  /** Appends the changes, then applies them: a query sees all of a call or none of it. */
  async #commit(changes: Change[]): Promise<void> {
    if (this.#closing) throw createError('CCES_ERR_STORAGE_UNAVAILABLE', 'the storage is closed');
    const { path } = this.#file;
    try {
      await this.#file.append(changes);
    } catch (err) {
      throw createError('CCES_ERR_STORAGE_WRITE', \`cannot append to \${path}\`, { path }, err);
    }
    for (const change of changes) this.#apply(change);
  }

  #apply(change: Change): void {
    if (change.op === 'record') {
      const r = change.record;
      this.#records.set(\`\${r.time}:\${r.key}\`, r);
      if (r.id >= this.#nextId) this.#nextId = r.id + 1n;
    } else if (change.op === 'rejected') {
      this.#rejected.push(change.item);
      if (change.item.id >= this.#nextRejectedId) this.#nextRejectedId = change.item.id + 1n;
    } else if (change.op === 'delete') {
      const ids = new Set(change.ids);
      for (const [identity, r] of this.#records) if (ids.has(r.id)) this.#records.delete(identity);
    } else {
      const ids = new Set(change.ids);
      this.#rejected = this.#rejected.filter((r) => !ids.has(r.id));
    }
  }

  /** The changes that rebuild what is kept now, ids included. */
  #live(): Change[] {
    const records = [...this.#records.values()].map((record): Change => ({ op: 'record', record }));
    return [...records, ...this.#rejected.map((item): Change => ({ op: 'rejected', item }))];
  }
}

export default definePlugin({
  kind: 'storage',
  type: '${name}',
  contract: '^1.0.0',
  configSchema: ConfigSchema,
  create: (config, ctx) => new ${pascal(name)}Storage(config, ctx),
});
`;
}

/** \`my-store\` → \`MyStore\`. */
export function pascal(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_, _dash: string, c: string) => c.toUpperCase());
}
