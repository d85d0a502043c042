/**
 * The `data-file.ts` of a new storage plugin: the JSON-lines file its changes are appended
 * to, read back on open and then rewritten with what is still live.
 */

/** The data file module of a new storage plugin, importing the SDK from `sdk`. */
export function storageDataFile(sdk: string): string {
  return `/**
 * The data file of the storage: one change a line (a record, a refused input, or the ids
 * that a deletion removed), appended and synced before the storage applies it.
 */
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { makeDirs, type StoredRecord, type StoredRejectedItem } from '${sdk}';

/** One line of the file. */
export type Change =
  | { op: 'record'; record: StoredRecord }
  | { op: 'rejected'; item: StoredRejectedItem }
  | { op: 'delete' | 'prune'; ids: bigint[] };

/** An append-only JSON-lines file of changes. */
export class DataFile {
  readonly path: string;
  #handle: FileHandle | undefined;
  /** The append in progress: appends run one after another, so lines never interleave. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /**
   * Reads every change. A last line cut short by a crash is dropped (its append never
   * resolved); any other line that does not parse throws.
   */
  async read(): Promise<Change[]> {
    makeDirs(dirname(this.path));
    const text = await readFile(this.path, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    return text.split('\\n').slice(0, -1).map(decode);
  }

  /** Replaces the file by \`changes\` (write, sync, rename) and opens it for appending. */
  async rewrite(changes: readonly Change[]): Promise<void> {
    const tmp = \`\${this.path}.tmp\`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(changes.map(encode).join(''));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path);
    this.#handle = await open(this.path, 'a');
  }

  /** Appends changes; resolves once they are on disk. */
  append(changes: readonly Change[]): Promise<void> {
    const handle = this.#handle!;
    const done = this.#tail.then(async () => {
      if (changes.length === 0) return;
      await handle.appendFile(changes.map(encode).join(''));
      await handle.datasync();
    });
    this.#tail = done.catch(() => undefined);
    return done;
  }

  /** Waits for the appends in progress and closes the file. */
  async close(): Promise<void> {
    await this.#tail;
    await this.#handle?.close();
    this.#handle = undefined;
  }
}

/** A change as one line: bigints (ids, times, keys) become decimal strings. */
function encode(change: Change): string {
  return \`\${JSON.stringify(change, bigintAsText)}\\n\`;
}

function bigintAsText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? String(value) : value;
}

/** A line as JSON.parse gives it: bigints still text, tags in a plain object. */
interface Line {
  op: Change['op'];
  ids?: string[];
  record?: Record<string, unknown>;
  item?: Record<string, unknown>;
}

function decode(text: string): Change {
  const line = JSON.parse(text) as Line;
  if (line.ids) return { op: line.op, ids: line.ids.map(BigInt) } as Change;
  const row = (line.record ?? line.item)!;
  for (const k of ['id', 'time', 'receivedAt', 'key']) {
    if (typeof row[k] === 'string') row[k] = BigInt(row[k]);
  }
  // Tags live in a prototype-free object, as the store builds them: a tag may be any name.
  if (line.record) row.tags = Object.assign(Object.create(null), row.tags);
  return line as unknown as Change;
}
`;
}
