/**
 * Crash rounds: writers post unique events under sustained load, the store is killed with
 * SIGKILL at a random moment, started again, and every acknowledged event must be stored
 * exactly once. Used by the short test and by scripts/hardening/crash-rounds.ts.
 */
import { readFileSync } from 'node:fs';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { StoreProcess } from '../helpers/store-process.ts';
import { Rng } from './fuzz-inputs.ts';

/** Totals over all rounds so far. */
export interface CrashTally {
  rounds: number;
  sent: number;
  acknowledged: number;
  found: number;
  lost: number;
  duplicated: number;
  peakRssMiB: number;
}

/** How a round feeds the store. */
export type CrashIngest =
  { kind: 'http' } | { kind: 'jetstream'; nc: NatsConnection; subject: string };

/** Settings of a run. */
export interface CrashOptions {
  configPath: string;
  ingest: CrashIngest;
  writers: number;
  batch: number;
  /** Random kill moment: between these many ms after the load starts. */
  killAfterMs: [number, number];
  seed: number;
  /** Extra environment of the store process (such as NODE_OPTIONS for a heap bound). */
  env?: Record<string, string>;
}

/** Peak RSS (VmHWM) of a process, MiB; 0 when it is gone. */
export function peakRssMiB(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    // The process exited between the check and the read.
    return 0;
  }
}

function batchBody(round: number, writer: number, seq: number, size: number): string[] {
  const ids: string[] = [];
  for (let i = 0; i < size; i++) ids.push(`r${round}-w${writer}-s${seq}-${i}`);
  return ids;
}

function lineOf(id: string, t: bigint): string {
  return `crash,cluster=crash,hostname=h${id.length % 7} event="{\\"id\\":\\"${id}\\"}" ${t}`;
}

/** Runs writers until `stop` is set; returns every id sent and every id acknowledged. */
async function load(store: StoreProcess, o: CrashOptions, round: number, stop: { now: boolean }) {
  const sent: string[] = [];
  const acked: string[] = [];
  const js = o.ingest.kind === 'jetstream' ? jetstream(o.ingest.nc) : undefined;
  let clock = BigInt(Date.now()) * 1_000_000n;
  const writer = async (w: number) => {
    for (let seq = 0; !stop.now; seq++) {
      const ids = batchBody(round, w, seq, o.batch);
      const body = ids.map((id) => lineOf(id, clock++)).join('\n');
      sent.push(...ids);
      try {
        if (js !== undefined && o.ingest.kind === 'jetstream') {
          await js.publish(o.ingest.subject, body);
          acked.push(...ids);
        } else {
          const res = await fetch(`${store.api}/api/write`, { method: 'POST', body });
          if (res.status === 204) acked.push(...ids);
          else await res.arrayBuffer();
        }
      } catch {
        // The store died mid-request: this batch is not acknowledged, and the writer is done.
        if (o.ingest.kind === 'http') return;
      }
    }
  };
  const done = Promise.all(Array.from({ length: o.writers }, (_, w) => writer(w)));
  return { sent, acked, done };
}

/**
 * How often each id is stored. A JavaScript Map holds at most 2^24 keys, fewer than a long
 * run stores, so the ids are spread over several Maps by a hash of their last characters.
 */
export class IdCounts {
  readonly #shards = Array.from({ length: 16 }, () => new Map<string, number>());

  #shard(id: string): Map<string, number> {
    const h = id.charCodeAt(id.length - 1) * 31 + id.charCodeAt(id.length - 2);
    return this.#shards[h & 15]!;
  }

  add(id: string): void {
    const m = this.#shard(id);
    m.set(id, (m.get(id) ?? 0) + 1);
  }

  get(id: string): number | undefined {
    return this.#shard(id).get(id);
  }

  has(id: string): boolean {
    return this.#shard(id).has(id);
  }

  get size(): number {
    return this.#shards.reduce((n, m) => n + m.size, 0);
  }

  *values(): IterableIterator<number> {
    for (const m of this.#shards) yield* m.values();
  }

  *[Symbol.iterator](): IterableIterator<[string, number]> {
    for (const m of this.#shards) yield* m;
  }
}

/** Every `crash` event id in the store, with how often it is there. */
export async function storedIds(store: StoreProcess): Promise<IdCounts> {
  const seen = new IdCounts();
  let cursor: string | null = null;
  do {
    const qs = new URLSearchParams({ cluster: 'crash', limit: '10000', order: 'asc' });
    if (cursor) qs.set('cursor', cursor);
    const res = await fetch(`${store.api}/api/v1/events?${qs}`);
    const page = (await res.json()) as { items: { payload: string }[]; next_cursor: string | null };
    for (const item of page.items) seen.add((JSON.parse(item.payload) as { id: string }).id);
    cursor = page.next_cursor;
  } while (cursor !== null);
  return seen;
}

/** Waits until the store holds `want` distinct crash ids or `ms` passed. */
async function settle(store: StoreProcess, acked: Set<string>, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const seen = await storedIds(store);
    const missing = [...acked].filter((id) => !seen.has(id)).length;
    if (missing === 0 || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Runs `rounds` kill-and-restart rounds on the config and returns the tally. The store is
 * started before the first round; the returned store is the last one, still running.
 */
export async function runCrashRounds(
  o: CrashOptions,
  rounds: number,
  onRound?: (t: CrashTally) => void,
): Promise<{ tally: CrashTally; store: StoreProcess }> {
  const rng = new Rng(o.seed);
  const tally: CrashTally = {
    rounds: 0,
    sent: 0,
    acknowledged: 0,
    found: 0,
    lost: 0,
    duplicated: 0,
    peakRssMiB: 0,
  };
  const allAcked = new Set<string>();
  let store = await StoreProcess.start(o.configPath, o.env);
  for (let round = 1; round <= rounds; round++) {
    const stop = { now: false };
    const run = await load(store, o, round, stop);
    const [lo, hi] = o.killAfterMs;
    await new Promise((r) => setTimeout(r, lo + rng.below(hi - lo)));
    tally.peakRssMiB = Math.max(tally.peakRssMiB, peakRssMiB(store.proc.pid));
    await store.kill();
    stop.now = true;
    await run.done;
    store = await StoreProcess.start(o.configPath, o.env);

    for (const id of run.acked) allAcked.add(id);
    const seen = await settle(store, allAcked, o.ingest.kind === 'jetstream' ? 30_000 : 0);
    tally.rounds = round;
    tally.sent += run.sent.length;
    tally.acknowledged += run.acked.length;
    tally.found = [...allAcked].filter((id) => seen.has(id)).length;
    tally.lost = allAcked.size - tally.found;
    tally.duplicated = [...seen.values()].filter((n) => n > 1).length;
    onRound?.({ ...tally });
  }
  return { tally, store };
}
