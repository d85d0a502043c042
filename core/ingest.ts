/**
 * The write path of one receiver: bytes → messages → rules → records → router, answering
 * once every event and log of the input is committed or kept in the rejected store.
 */
import type { Logger } from 'pino';
import { BurstLogger } from './burst-logger.ts';
import type {
  IngestInput,
  IngestOptions,
  IngestResult,
  ReceiverContext,
} from './contracts/receiver.ts';
import type { RejectedItem } from './contracts/storage.ts';
import { decode, encode } from './lineproto/index.ts';
import { classifyMessage, type Message } from './message.ts';
import { buildRecord, type EventRecord } from './record.ts';
import type { Router } from './router.ts';
import type { MessageRules } from './rules.ts';
import type { Stats } from './stats.ts';
import { nowNanos, type Precision } from './time.ts';
import { boundRaw, Tally, type Refusal } from './ingest/tally.ts';

/** Where refused entries are kept; the storage manager is one. */
export interface RejectedStore {
  /** Resolves once the items are durable. */
  writeRejected(items: RejectedItem[]): Promise<void>;
  /**
   * The error any input would be refused with now (a full queue), so that an input is
   * refused before it is decoded; undefined while input is taken.
   */
  refusesInput?(): Error | undefined;
}

/** What the write path needs from the host. */
export interface IngestDeps {
  router: Router;
  storage: RejectedStore;
  stats: Stats;
  logger: Logger;
}

/** Per-receiver settings of the write path. */
export interface IngestSettings {
  /** The receiver's compiled `process_messages`. */
  rules?: MessageRules;
  /** Cluster for messages that name none, unless the call states one. */
  defaultCluster?: string;
  /** Timestamp precision unless the call states one; default `auto`. */
  precision?: Precision;
}

/**
 * Creates the `ingest` function of one receiver (or the API), counting under `scope` (such
 * as `receiver:http`): `received`, `stored`, `duplicates`, `rejected`, `rejected_<reason>`
 * (`syntax`, `no_cluster`, `storage`), `skipped_<type>` (`metric`, `control`, `query`,
 * `other`), `dropped_by_rule`, `rule_errors`, `cluster_from_tag`, `cluster_from_payload` (the
 * message named another cluster than the default), `implausible_time` (entries dated
 * before 2000, kept as sent: likely a wrong precision), `refused` (entries of inputs answered
 * with an error, which the sender is expected to retry) and `refused_unread` (inputs refused
 * before decoding because the queue was full).
 */
export function createIngest(
  deps: IngestDeps,
  scope: string,
  opts: IngestSettings = {},
): ReceiverContext['ingest'] {
  const ingest = new Ingest(deps, scope, opts);
  return (input, callOpts) => ingest.run(input, callOpts);
}

class Ingest {
  #deps: IngestDeps;
  #scope: string;
  #settings: IngestSettings;
  #ruleFailures: BurstLogger;
  #implausible: BurstLogger;

  constructor(deps: IngestDeps, scope: string, settings: IngestSettings) {
    this.#deps = deps;
    this.#scope = scope;
    this.#settings = settings;
    this.#ruleFailures = new BurstLogger(deps.logger, 'warn', 'process_messages condition failed');
    this.#implausible = new BurstLogger(
      deps.logger,
      'warn',
      "entries dated before 2000 stored as sent; check the sender's timestamp precision",
    );
  }

  async run(input: IngestInput, opts: IngestOptions = {}): Promise<IngestResult> {
    // Under overload most inputs are refused; decoding them first would take the time the
    // commits need (with the writer thread, the main thread hands it every next batch).
    const refusal = this.#deps.storage.refusesInput?.();
    if (refusal) {
      this.#deps.stats.add(this.#scope, 'refused_unread');
      throw refusal;
    }
    const receivedAt = opts.receivedAt ?? nowNanos();
    const precision = opts.precision ?? this.#settings.precision ?? 'auto';
    const tally = this.#decode(input, precision, opts.cluster, receivedAt);

    try {
      if (tally.records.length > 0) tally.settle(await this.#deps.router.route(tally.records));
      if (tally.refusals.length > 0) await this.#keepRejected(tally.refusals, receivedAt);
    } catch (err) {
      // Nothing of the input counts as acknowledged; the sender retries it.
      this.#deps.stats.add(this.#scope, 'refused', tally.received + tally.syntaxErrors);
      throw err;
    }
    tally.count(this.#deps.stats, this.#scope);
    return tally.result();
  }

  /**
   * Decodes the input and builds its records. The decoded messages are garbage once this
   * returns: the caller awaits commits with only the tally (records and refusals) alive.
   */
  #decode(
    input: IngestInput,
    precision: Precision,
    cluster: string | undefined,
    receivedAt: bigint,
  ): Tally {
    const parts = isParts(input) ? input : undefined;
    const decoded = (parts ?? [input as Buffer | string]).map((p) =>
      decode(p, { precision, now: receivedAt }),
    );
    let received = 0;
    for (const d of decoded) received += d.messages.length;
    const tally = new Tally(received, parts !== undefined);
    const dflt = cluster ?? this.#settings.defaultCluster;
    for (let p = 0; p < decoded.length; p++) {
      tally.part = p;
      for (const e of decoded[p]!.errors) tally.refuseSyntax(e);
      this.#build(decoded[p]!.messages, dflt, receivedAt, tally);
    }
    this.#report(dflt, tally);
    return tally;
  }

  /** Applies rules, classifies, and builds the records of events and logs. */
  #build(messages: Message[], cluster: string | undefined, receivedAt: bigint, tally: Tally): void {
    const rules = this.#settings.rules;
    for (let msg of messages) {
      if (rules) {
        const kept = rules.apply(msg);
        if (kept === undefined) {
          tally.droppedByRule++;
          continue;
        }
        msg = kept;
      }
      const kind = classifyMessage(msg);
      if (kind !== 'event' && kind !== 'log') {
        tally.skip(kind);
        continue;
      }
      const built = buildRecord(msg, kind, receivedAt, cluster);
      if (built.ok) tally.accept(built.record, msg, cluster);
      else tally.refuse({ line: msg.line ?? 0, key: built.reason, reason: built.reason, msg });
    }
  }

  /** Logs what the input's build noticed: rule failures, implausible times, conflicts. */
  #report(cluster: string | undefined, tally: Tally): void {
    const rules = this.#settings.rules;
    if (rules) this.#countRuleErrors(rules);
    if (tally.implausible > 0) this.#implausible.add(tally.implausible, tally.firstImplausible!);
    if (tally.conflicts > 0) {
      this.#deps.logger.debug(
        { count: tally.conflicts, ...tally.firstConflict, defaultCluster: cluster },
        'message names another cluster than the default; the message wins',
      );
    }
  }

  async #keepRejected(refusals: Refusal[], receivedAt: bigint): Promise<void> {
    const items: RejectedItem[] = refusals.map((r) => ({
      raw: boundRaw(r.raw ?? encode(r.msg ?? messageOf(r.rec!), 'ns')),
      reason: r.reason,
      source: this.#scope,
      line: r.line,
      column: r.column,
      receivedAt,
    }));
    await this.#deps.storage.writeRejected(items);
  }

  #countRuleErrors(rules: MessageRules): void {
    const failed = rules.drainErrors();
    if (!failed) return;
    this.#deps.stats.add(this.#scope, 'rule_errors', failed.count);
    const { count: _count, ...example } = failed;
    this.#ruleFailures.add(failed.count, example);
  }
}

function isParts(input: IngestInput): input is readonly Buffer[] {
  return Array.isArray(input);
}

/** The message a record was built from, for re-encoding a refused record. */
function messageOf(rec: EventRecord): Message {
  return {
    name: rec.name,
    tags: { ...rec.tags, cluster: rec.cluster },
    fields: { [rec.kind]: rec.payload, ...rec.extra },
    time: rec.time,
  };
}
