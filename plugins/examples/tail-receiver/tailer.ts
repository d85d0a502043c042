/**
 * Follows a file as `tail -F` does: reads appended bytes, hands over complete lines only,
 * and survives rotation (the path names a new file: the old one is read to its end first)
 * and truncation (the file got shorter: read again from the start).
 */
import { open, stat, type FileHandle } from 'node:fs/promises';

/** Reads the new complete lines of a followed file. */
export class Tailer {
  readonly #path: string;
  #handle: FileHandle | undefined;
  #inode = -1;
  #offset = 0;
  #partial = '';
  #fromEnd: boolean;

  /** `fromEnd`: skip what the file holds when it is first opened. */
  constructor(path: string, fromEnd: boolean) {
    this.#path = path;
    this.#fromEnd = fromEnd;
  }

  /** The complete lines appended since the last call (with their line feeds), or ''. */
  async read(): Promise<string> {
    const now = await stat(this.#path).catch(() => undefined);
    let text = '';
    if (this.#handle && (now === undefined || now.ino !== this.#inode)) {
      // Rotated or removed: what was written to the old file before the switch still counts.
      text += await this.#drain();
      await this.#handle.close();
      this.#handle = undefined;
      this.#fromEnd = false;
    }
    if (!now) return this.#complete(text);

    if (!this.#handle) {
      this.#handle = await open(this.#path, 'r');
      this.#inode = now.ino;
      this.#offset = this.#fromEnd ? now.size : 0;
      this.#fromEnd = false;
    } else if (now.size < this.#offset) {
      this.#offset = 0;
      this.#partial = '';
    }
    return this.#complete(text + (await this.#drain()));
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }

  async #drain(): Promise<string> {
    const chunks: Buffer[] = [];
    for (;;) {
      const buf = Buffer.alloc(64 * 1024);
      const { bytesRead } = await this.#handle!.read(buf, 0, buf.length, this.#offset);
      if (bytesRead === 0) break;
      this.#offset += bytesRead;
      chunks.push(buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Keeps the text after the last line feed for the next call. */
  #complete(text: string): string {
    const all = this.#partial + text;
    const end = all.lastIndexOf('\n') + 1;
    this.#partial = all.slice(end);
    return all.slice(0, end);
  }
}
