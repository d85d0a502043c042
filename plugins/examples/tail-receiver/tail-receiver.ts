/**
 * The tail receiver: polls its file, ingests each batch of new lines, and holds a batch the
 * store refused as overloaded until the next poll.
 */
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { IngestOptions, Receiver, ReceiverContext } from '../../../core/index.ts';
import { createError } from '../../../core/index.ts';
import { Tailer } from './tailer.ts';

/** Settings of a tail receiver, defaults applied. */
export interface TailOptions {
  path: string;
  pollMs: number;
  fromEnd: boolean;
  ingest: Omit<IngestOptions, 'receivedAt'>;
}

/** A receiver following one file. */
export class TailReceiver implements Receiver {
  readonly #opts: TailOptions;
  readonly #tailer: Tailer;
  #ctx: ReceiverContext | undefined;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> = Promise.resolve();
  #held = '';
  #stopping: Promise<void> | undefined;

  constructor(opts: TailOptions) {
    this.#opts = opts;
    this.#tailer = new Tailer(opts.path, opts.fromEnd);
  }

  async start(ctx: ReceiverContext): Promise<void> {
    this.#ctx = ctx;
    // The file itself may appear later (tail -F), but a missing folder is a config mistake.
    const folder = dirname(this.#opts.path);
    const dir = await stat(folder).catch(() => undefined);
    if (!dir?.isDirectory()) {
      throw createError(
        'CCES_ERR_PLUGIN_START',
        `the folder ${folder} of the tailed file does not exist; create it or fix "path"`,
        { path: this.#opts.path },
      );
    }
    // The first read fixes the start position, so lines appended after start() are read.
    this.#held = await this.#tailer.read();
    this.#schedule();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearTimeout(this.#timer);
      await this.#tick;
      await this.#tailer.close();
    })();
    return this.#stopping;
  }

  #schedule(): void {
    if (this.#stopping) return;
    this.#timer = setTimeout(() => {
      this.#tick = this.#poll().finally(() => this.#schedule());
    }, this.#opts.pollMs);
  }

  async #poll(): Promise<void> {
    const ctx = this.#ctx!;
    try {
      const text = this.#held + (await this.#tailer.read());
      this.#held = text;
      if (text === '') return;
      const result = await ctx.ingest(text, this.#opts.ingest);
      this.#held = '';
      ctx.count('lines_read', result.received + result.rejected.length);
    } catch (err) {
      // Overload and shutdown keep the lines for the next poll; anything else is logged once
      // per poll and the lines are retried too, since the file still holds them.
      const code = (err as { code?: unknown }).code;
      if (code !== 'CCES_ERR_INGEST_OVERLOADED' && code !== 'CCES_ERR_INGEST_CLOSED') {
        ctx.logger.error({ err, path: this.#opts.path }, 'tail read failed');
      }
    }
  }
}
