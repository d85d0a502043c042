/**
 * The router: every event and log goes to storage; other sinks get the newly stored records
 * their match rules choose, without delaying the storage acknowledgement.
 */
import type { Logger } from 'pino';
import { BurstLogger } from './burst-logger.ts';
import type { Sink } from './contracts/sink.ts';
import type { WriteOutcome } from './contracts/storage.ts';
import { createError } from './errors.ts';
import type { EventRecord } from './record.ts';
import { compileMatch, type MatchRule, type RecordMatcher } from './router/match.ts';
import type { Stats } from './stats.ts';

export { MatchRuleSchema, type MatchRule } from './router/match.ts';

/** A sink other than storage, with the rule that picks its records. */
export interface SinkRoute {
  name: string;
  sink: Sink;
  match: MatchRule;
}

interface CompiledRoute {
  name: string;
  sink: Sink;
  test: RecordMatcher;
  /** Stats scope `sink:<name>`: `routed`, `sink_errors`, `rule_errors`. */
  scope: string;
  writeFailures: BurstLogger;
  ruleFailures: BurstLogger;
}

/** One set of routes and the work still running on it. */
interface Generation {
  routes: CompiledRoute[];
  pending: Set<Promise<void>>;
}

const STORED: WriteOutcome = { status: 'stored' };

/** Hands records to storage and to the sinks their match rules choose. */
export class Router {
  #storage: Sink;
  #stats: Stats;
  #logger: Logger;
  /** The route set new records take; a replaced set lives on until its work is done. */
  #current: Generation;
  #generations = new Set<Generation>();
  #closing?: Promise<void>;

  /** Compiles every route's match rule; throws `CCES_ERR_RULE_INVALID` for a bad `if`. */
  constructor(storage: Sink, routes: SinkRoute[], stats: Stats, logger: Logger) {
    this.#storage = storage;
    this.#stats = stats;
    this.#logger = logger;
    this.#current = this.#compile(routes);
    this.#generations.add(this.#current);
  }

  /**
   * Writes `records` to storage and resolves with its outcomes, one per record, once they
   * are committed. Rejects as the storage sink does (`CCES_ERR_INGEST_OVERLOADED`, ...), and
   * with `CCES_ERR_INGEST_CLOSED` after `close`. Records stored now (not duplicates, not
   * rejected) are then handed to the matching sinks, whose writes are not awaited: a failure
   * there is counted as `sink_errors` under `sink:<name>` and logged once per burst.
   */
  route(records: EventRecord[]): Promise<WriteOutcome[]> {
    if (this.#closing) {
      return Promise.reject(createError('CCES_ERR_INGEST_CLOSED', 'the router is closed'));
    }
    const gen = this.#current;
    const done = this.#storeThenForward(records, gen);
    if (gen.routes.length > 0) this.#track(gen, done);
    return done;
  }

  /**
   * Makes `routes` the set that records routed from now on take (a reload). Routes already
   * in progress finish on the previous set; the promise resolves once they and the sink
   * writes they started are done, so the sinks left out may then be closed. Throws
   * `CCES_ERR_RULE_INVALID` for a bad `if`, before anything changes.
   */
  replaceRoutes(routes: SinkRoute[]): Promise<void> {
    const next = this.#compile(routes);
    const old = this.#current;
    this.#current = next;
    this.#generations.add(next);
    return this.#drain(old);
  }

  /** Waits for routes in progress and for every pending sink write. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#generations].map((g) => this.#drain(g)));
    })();
    return this.#closing;
  }

  #compile(routes: SinkRoute[]): Generation {
    const compiled = routes.map((r) => {
      const log = this.#logger.child({ sink: r.name });
      return {
        name: r.name,
        sink: r.sink,
        test: compileMatch(r.match, `${r.name}.match.if`),
        scope: `sink:${r.name}`,
        writeFailures: new BurstLogger(log, 'warn', 'sink write failed'),
        ruleFailures: new BurstLogger(log, 'warn', 'sink match condition failed'),
      };
    });
    return { routes: compiled, pending: new Set() };
  }

  /** Waits until a route set has no work left; a replaced set is then forgotten. */
  async #drain(gen: Generation): Promise<void> {
    while (gen.pending.size > 0) await Promise.all(gen.pending);
    for (const r of gen.routes) {
      r.writeFailures.flush();
      r.ruleFailures.flush();
    }
    if (gen !== this.#current) this.#generations.delete(gen);
  }

  async #storeThenForward(records: EventRecord[], gen: Generation): Promise<WriteOutcome[]> {
    const result = await this.#storage.write(records);
    const outcomes = result ?? records.map(() => STORED);
    for (const route of gen.routes) this.#forward(gen, route, records, outcomes);
    return outcomes;
  }

  #forward(
    gen: Generation,
    route: CompiledRoute,
    records: EventRecord[],
    outcomes: WriteOutcome[],
  ): void {
    let batch: EventRecord[] | undefined;
    let ruleErrors = 0;
    let lastError: unknown;
    for (let i = 0; i < records.length; i++) {
      if (outcomes[i]?.status !== 'stored') continue;
      const rec = records[i]!;
      try {
        if (route.test(rec)) (batch ??= []).push(rec);
      } catch (err) {
        ruleErrors++;
        lastError = err;
      }
    }
    if (ruleErrors > 0) {
      this.#stats.add(route.scope, 'rule_errors', ruleErrors);
      route.ruleFailures.add(ruleErrors, { err: lastError });
    }
    if (batch) this.#send(gen, route, batch);
  }

  #send(gen: Generation, route: CompiledRoute, batch: EventRecord[]): void {
    this.#stats.add(route.scope, 'routed', batch.length);
    let write: Promise<unknown>;
    try {
      write = route.sink.write(batch);
    } catch (err) {
      write = Promise.reject(err);
    }
    this.#track(
      gen,
      write.then(undefined, (err: unknown) => {
        this.#stats.add(route.scope, 'sink_errors', batch.length);
        route.writeFailures.add(batch.length, { err, code: (err as { code?: unknown })?.code });
      }),
    );
  }

  /** Keeps `p` in the set's pending work until it settles; its outcome is handled elsewhere. */
  #track(gen: Generation, p: Promise<unknown>): void {
    const settled: Promise<void> = p.then(
      () => void gen.pending.delete(settled),
      () => void gen.pending.delete(settled),
    );
    gen.pending.add(settled);
  }
}
