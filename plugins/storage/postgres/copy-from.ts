/**
 * `COPY ... FROM STDIN` as a node-postgres Submittable: the protocol exchange pg-copy-streams
 * performs, reduced to what a bounded batch needs. One query string may hold several COPY
 * statements (one per table); the server runs them in one implicit transaction.
 *
 * The data is sent right behind the query, without waiting for the server to ask for it
 * (CopyInResponse): the server reads it when it gets there, and a server that failed the
 * statement drops whatever copy data follows, as the protocol specifies. Chunks come from
 * generators, so the server stores each chunk while the next one is being encoded.
 */
import type pg from 'pg';

/** The connection calls of the COPY sub-protocol (present in pg 8, absent from its types). */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: { writableLength: number; once(event: 'drain', fn: () => void): void };
}

// Above this many unsent bytes the next chunk waits for the socket to drain.
const HIGH_WATER = 4 << 20;

/** COPY FROM STDIN statements. Submit with `client.query(copy)`, then await `done`. */
export class CopyFrom implements pg.Submittable {
  /** Resolves with the number of rows copied once the server has committed. */
  readonly done: Promise<number>;
  readonly #text: string;
  readonly #sources: Array<Iterable<Buffer>>;
  #rows = 0;
  #failed = false;
  /** Resumes a pump that waits for the socket, when the statement fails meanwhile. */
  #wake: (() => void) | undefined;
  #resolve!: (rows: number) => void;
  #reject!: (err: Error) => void;

  /** `text` holds one COPY FROM STDIN per source, in the same order. */
  constructor(text: string, sources: Array<Iterable<Buffer>>) {
    this.#text = text;
    this.#sources = sources;
    this.done = new Promise<number>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** Called by the client when the statement's turn comes. */
  submit(connection: pg.Connection): void {
    const conn = connection as unknown as CopyConnection;
    conn.query(this.#text);
    void this.#pump(conn);
  }

  // Sends every source's chunks, each source closed by CopyDone, yielding to the event loop
  // between chunks so that the socket writes and replies are read. After a server error the
  // rest is not encoded.
  async #pump(connection: CopyConnection): Promise<void> {
    try {
      for (const source of this.#sources) {
        for (const chunk of source) {
          if (this.#failed) return;
          connection.sendCopyFromChunk(chunk);
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
            if (connection.stream.writableLength > HIGH_WATER) {
              connection.stream.once('drain', resolve);
            } else {
              setImmediate(resolve);
            }
          });
        }
        if (this.#failed) return;
        connection.endCopyFrom();
      }
    } catch (err) {
      // The server rolls the statement back and answers with an error, which rejects `done`.
      connection.sendCopyFail(`the store failed to encode rows: ${(err as Error).message}`);
    }
  }

  /** The server is ready for data; it is on its way already. */
  handleCopyInResponse(): void {}

  /** Called once per statement of the query string; only the COPYs tell row counts. */
  handleCommandComplete(msg: { text?: string }): void {
    const m = /^COPY (\d+)$/.exec(msg.text ?? '');
    if (m) this.#rows += Number(m[1]);
  }

  /** Server errors arrive before ReadyForQuery; connection errors arrive alone. */
  handleError(err: Error): void {
    this.#failed = true;
    this.#wake?.();
    this.#reject(err);
  }

  handleReadyForQuery(): void {
    if (!this.#failed) this.#resolve(this.#rows);
  }

  // The remaining handlers of the client's protocol dispatch; a COPY FROM sees none of these.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCopyData(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
}
