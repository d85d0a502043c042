/**
 * What became of the entries of one input, added up locally and counted in one go.
 */
import type { IngestError, IngestResult } from '../contracts/receiver.ts';
import type { WriteOutcome } from '../contracts/storage.ts';
import type { DecodeError } from '../lineproto/index.ts';
import type { Message, MessageKind } from '../message.ts';
import type { EventRecord } from '../record.ts';
import type { Stats } from '../stats.ts';

/** Longest raw text kept for a refused entry, in UTF-8 bytes. */
export const MAX_RAW_BYTES = 64 * 1024;

/** A refused entry; its raw text is the decoder's, or encoded from `msg` or `rec` later. */
export interface Refusal {
  /** Index of the part, when the input was a list of parts. */
  part?: number;
  line: number;
  column?: number;
  /** Counter suffix: `syntax`, `no_cluster`, `storage`. */
  key: string;
  /** As the sender is told. */
  reason: string;
  raw?: string;
  msg?: Message;
  rec?: EventRecord;
}

/**
 * 2000-01-01T00:00:00Z in ns. No cluster sent events before it, so an earlier time most
 * likely had its precision guessed wrong (a 7-digit value read as seconds) or is a
 * placeholder (0, -1): stored as sent, but counted and logged.
 */
const PLAUSIBLE_FROM_NS = 946_684_800_000_000_000n;

/** Counters, records and refusals of one input. */
export class Tally {
  readonly received: number;
  /** Records to route, and the line (and, for a list of parts, the part) each came from. */
  readonly records: EventRecord[] = [];
  readonly lines: number[] = [];
  readonly #parts: number[] | undefined;
  /** The part being built, when the input is a list of parts. */
  part = 0;
  stored = 0;
  duplicates = 0;
  droppedByRule = 0;
  conflicts = 0;
  /** Records dated before 2000: stored, but likely sent with a wrong precision. */
  implausible = 0;
  firstImplausible?: { line?: number; time: string };
  firstConflict?: { line?: number; cluster: string; from: 'tag' | 'payload' };
  readonly refusals: Refusal[] = [];
  /** Entries the decoder refused. */
  syntaxErrors = 0;
  #skipped = { metric: 0, control: 0, query: 0, other: 0 };
  #fromTag = 0;
  #fromPayload = 0;

  constructor(received: number, parts = false) {
    this.received = received;
    this.#parts = parts ? [] : undefined;
  }

  skip(kind: Exclude<MessageKind, 'event' | 'log'>): void {
    this.#skipped[kind]++;
  }

  refuse(r: Refusal): void {
    if (this.#parts) r.part = this.part;
    this.refusals.push(r);
  }

  refuseSyntax(e: DecodeError): void {
    this.syntaxErrors++;
    const reason = `syntax: ${e.reason}`;
    this.refuse({ line: e.line, column: e.column, key: 'syntax', reason, raw: e.raw });
  }

  /** Takes a built record; notes when its cluster overrode the default `cluster`. */
  accept(rec: EventRecord, msg: Message, cluster: string | undefined): void {
    this.records.push(rec);
    this.lines.push(msg.line ?? 0);
    this.#parts?.push(this.part);
    if (cluster && rec.cluster !== cluster) this.#conflict(msg, rec);
    if (rec.time < PLAUSIBLE_FROM_NS && this.implausible++ === 0) {
      this.firstImplausible = { line: msg.line, time: rec.time.toString() };
    }
  }

  /** Counts storage outcomes, one per record; records storage refused join the refusals. */
  settle(outcomes: WriteOutcome[]): void {
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      if (o.status === 'stored') this.stored++;
      else if (o.status === 'duplicate') this.duplicates++;
      else this.#refuseStored(i, o.reason);
    }
  }

  #refuseStored(i: number, why: string): void {
    const reason = `storage: ${why}`;
    const r: Refusal = { line: this.lines[i]!, key: 'storage', reason, rec: this.records[i] };
    if (this.#parts) r.part = this.#parts[i];
    this.refusals.push(r);
  }

  /** A message named another cluster than the default (by tag, or in its JSON payload). */
  #conflict(msg: Message, rec: EventRecord): void {
    const from = msg.tags.cluster === undefined ? 'payload' : 'tag';
    if (from === 'tag') this.#fromTag++;
    else this.#fromPayload++;
    if (this.conflicts++ === 0) this.firstConflict = { line: msg.line, cluster: rec.cluster, from };
  }

  /** Adds every non-zero counter to `stats` under `scope`. */
  count(stats: Stats, scope: string): void {
    const add = (name: string, n: number) => n > 0 && stats.add(scope, name, n);
    add('received', this.received);
    add('stored', this.stored);
    add('duplicates', this.duplicates);
    add('dropped_by_rule', this.droppedByRule);
    add('implausible_time', this.implausible);
    add('cluster_from_tag', this.#fromTag);
    add('cluster_from_payload', this.#fromPayload);
    for (const [kind, n] of Object.entries(this.#skipped)) add(`skipped_${kind}`, n);
    add('rejected', this.refusals.length);
    for (const r of this.refusals) stats.add(scope, `rejected_${r.key}`);
  }

  /** The answer to the sender; refused entries ordered by part and line. */
  result(): IngestResult {
    const s = this.#skipped;
    const rejected: IngestError[] = this.refusals.map(({ part, line, column, reason }) => {
      const at = part === undefined ? { line } : { part, line };
      return column === undefined ? { ...at, reason } : { ...at, column, reason };
    });
    rejected.sort((a, b) => (a.part ?? 0) - (b.part ?? 0) || a.line - b.line);
    return {
      received: this.received,
      stored: this.stored,
      duplicates: this.duplicates,
      skipped: s.metric + s.control + s.query + s.other + this.droppedByRule,
      rejected,
    };
  }
}

const encoder = new TextEncoder();

/** `text` cut to at most {@link MAX_RAW_BYTES} UTF-8 bytes, never inside a character. */
export function boundRaw(text: string): string {
  if (text.length * 3 <= MAX_RAW_BYTES) return text;
  if (Buffer.byteLength(text) <= MAX_RAW_BYTES) return text;
  const { read } = encoder.encodeInto(text, new Uint8Array(MAX_RAW_BYTES));
  return text.slice(0, read);
}
