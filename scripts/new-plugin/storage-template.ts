/**
 * The `index.ts` a new storage plugin starts from: a complete Storage that keeps records in
 * memory, answering queries with `queryRecords`. The author adds persistence.
 */

/** The storage plugin module for `name`, importing the SDK from `sdk`. */
export function storageIndex(name: string, sdk: string): string {
  return `/**
 * The \`${name}\` storage plugin. It implements the whole Storage contract in memory, so the
 * conformance kit passes every test but "keeps everything across a close and reopen" until
 * \`open\` reads back what \`write\`, \`deleteBefore\`, \`writeRejected\` and \`pruneRejected\`
 * keep in \`config.path\`.
 */
import { resolve } from 'node:path';
import {
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
  /** The data folder, resolved against the config file's folder. */
  readonly dir: string;
  readonly #records = new Map<string, StoredRecord>();
  #rejected: StoredRejectedItem[] = [];
  #nextId = 1n;
  #nextRejectedId = 1n;
  #closing: Promise<void> | undefined;

  constructor(config: Static<typeof ConfigSchema>, ctx: PluginFactoryContext) {
    this.dir = resolve(ctx.configDir, config.path);
  }

  async open(): Promise<void> {}

  async write(batch: readonly EventRecord[]): Promise<WriteOutcome[]> {
    return batch.map((r): WriteOutcome => {
      if (r.time < INT64_MIN || r.time > INT64_MAX) {
        return { status: 'rejected', reason: 'time outside the int64 range' };
      }
      const id = \`\${r.time}:\${r.key}\`;
      if (this.#records.has(id)) return { status: 'duplicate' };
      // Extra fields come back as parsed JSON (integers as JSON numbers), as every backend's.
      const extra = r.extra && JSON.parse(extraToJson(r.extra));
      this.#records.set(id, { ...r, extra, id: this.#nextId++ });
      return { status: 'stored' };
    });
  }

  async query(q: StorageQuery): Promise<QueryPage> {
    return queryRecords(this.#records.values(), q);
  }

  async deleteBefore(kind: RecordKind, before: bigint, limit: number): Promise<number> {
    const old = [...this.#records]
      .filter(([, r]) => r.kind === kind && r.time < before)
      .sort(([, a], [, b]) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
      .slice(0, limit);
    for (const [id] of old) this.#records.delete(id);
    return old.length;
  }

  async writeRejected(items: readonly RejectedItem[]): Promise<void> {
    for (const item of items) this.#rejected.push({ ...item, id: this.#nextRejectedId++ });
  }

  async listRejected(limit: number, beforeId?: bigint): Promise<StoredRejectedItem[]> {
    const older = this.#rejected.filter((r) => beforeId === undefined || r.id < beforeId);
    return older.reverse().slice(0, limit);
  }

  async pruneRejected(keep: number, before: bigint): Promise<number> {
    // Items are in id order: those before \`cut\` are beyond the newest \`keep\`.
    const cut = Math.max(0, this.#rejected.length - keep);
    const kept = this.#rejected.filter((r, i) => i >= cut && r.receivedAt >= before);
    const removed = this.#rejected.length - kept.length;
    this.#rejected = kept;
    return removed;
  }

  async stats(): Promise<StorageStats> {
    let events = 0;
    for (const r of this.#records.values()) if (r.kind === 'event') events++;
    const logs = this.#records.size - events;
    return { events, logs, rejected: this.#rejected.length };
  }

  close(): Promise<void> {
    this.#closing ??= Promise.resolve();
    return this.#closing;
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
