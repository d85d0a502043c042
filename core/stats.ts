/**
 * Counters that every part of the store adds to and the stats endpoint shows. Every path
 * that drops or refuses a message counts it here under a declared name.
 */
import type { StatsSnapshot } from './contracts/api.ts';

/** A set of counters grouped by scope (`receiver:http`, `storage`, `router`, ...). */
export class Stats {
  #scopes = new Map<string, Map<string, number>>();

  /** Adds `n` (default 1) to a counter. */
  add(scope: string, name: string, n = 1): void {
    const s = this.#scope(scope);
    s.set(name, (s.get(name) ?? 0) + n);
  }

  /** Sets a gauge. */
  set(scope: string, name: string, value: number): void {
    this.#scope(scope).set(name, value);
  }

  get(scope: string, name: string): number {
    return this.#scopes.get(scope)?.get(name) ?? 0;
  }

  /** A plain-object copy of every counter. */
  snapshot(): StatsSnapshot {
    const out: StatsSnapshot = {};
    for (const [scope, m] of this.#scopes) out[scope] = Object.fromEntries(m);
    return out;
  }

  #scope(scope: string): Map<string, number> {
    let s = this.#scopes.get(scope);
    if (!s) this.#scopes.set(scope, (s = new Map()));
    return s;
  }
}
