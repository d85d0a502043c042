/**
 * The journal file of the JSON-lines storage: one JSON object a line, appended and synced
 * per call, replayed on open and then compacted to the live entries.
 */
import { open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  extraToJson,
  makeDirs,
  type StoredRecord,
  type StoredRejectedItem,
} from '../../../core/index.ts';

/** One line of the journal; bigints are written as decimal strings. */
export type Entry =
  | { t: 'rec'; r: StoredRecord }
  | { t: 'rej'; r: StoredRejectedItem }
  | { t: 'del' | 'prune'; ids: bigint[] };

/** The journal of one data folder. */
export class Journal {
  readonly file: string;
  #handle: FileHandle | undefined;

  constructor(dir: string) {
    this.file = join(dir, 'journal.jsonl');
  }

  /**
   * Reads every entry. A last line cut short by a crash is dropped: its write was never
   * acknowledged. Any other unreadable line throws.
   */
  async replay(): Promise<Entry[]> {
    makeDirs(join(this.file, '..'));
    const text = await readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    // What follows the last line feed is either nothing or a torn line: both are dropped.
    return text
      .split('\n')
      .slice(0, -1)
      .map((line) => fromJson(line));
  }

  /** Replaces the file by `entries` (write, sync, rename) and opens it for appending. */
  async rewrite(entries: Entry[]): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(entries.map((e) => `${toJson(e)}\n`).join(''));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file);
    this.#handle = await open(this.file, 'a');
  }

  /** Appends entries and resolves once they are on disk. */
  async append(entries: Entry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.#handle!.appendFile(entries.map((e) => `${toJson(e)}\n`).join(''));
    await this.#handle!.datasync();
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }
}

function toJson(e: Entry): string {
  if ('ids' in e) return JSON.stringify({ t: e.t, ids: e.ids.map(String) });
  const r = e.r as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'extra') out.extra = v === undefined ? undefined : extraToJson(v as never);
    else out[k] = typeof v === 'bigint' ? String(v) : v;
  }
  return JSON.stringify({ t: e.t, r: out });
}

const BIGINTS = ['id', 'time', 'receivedAt', 'key'];

function fromJson(line: string): Entry {
  const raw = JSON.parse(line) as { t: Entry['t']; ids?: string[]; r?: Record<string, unknown> };
  if (raw.t === 'del' || raw.t === 'prune') return { t: raw.t, ids: raw.ids!.map(BigInt) };
  const r = raw.r!;
  for (const k of BIGINTS) if (typeof r[k] === 'string') r[k] = BigInt(r[k] as string);
  // Extra fields come back as parsed JSON (integers as JSON numbers), as every backend's.
  if (typeof r.extra === 'string') r.extra = JSON.parse(r.extra);
  if (raw.t === 'rec') r.tags = Object.assign(Object.create(null), r.tags);
  return { t: raw.t, r } as unknown as Entry;
}
