/**
 * Overload: many writers post far more than storage takes, with a tiny queue. Measures the
 * store's RSS, the 503 answers and their Retry-After, and what was acknowledged. Used by
 * overload.test.ts and scripts/hardening/overload.ts.
 */
import { readFileSync } from 'node:fs';
import type { StoreProcess } from '../helpers/store-process.ts';

/** What an overload run saw. */
export interface OverloadResult {
  requests: number;
  acknowledgedIds: string[];
  status: Record<number, number>;
  /** 503 answers without a positive integer Retry-After header. */
  missingRetryAfter: number;
  peakRssMiB: number;
}

/** Current RSS (VmRSS) of a process, MiB; 0 when it is gone. */
export function rssMiB(pid: number | undefined): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    // The process is gone; the caller sees 0 and the test fails on its own checks.
    return 0;
  }
}

/** Posts batches of `batch` unique events from `writers` writers for `ms` milliseconds. */
export async function overload(
  store: StoreProcess,
  o: { writers: number; batch: number; ms: number },
): Promise<OverloadResult> {
  const r: OverloadResult = {
    requests: 0,
    acknowledgedIds: [],
    status: {},
    missingRetryAfter: 0,
    peakRssMiB: 0,
  };
  const end = Date.now() + o.ms;
  const sampler = setInterval(() => {
    r.peakRssMiB = Math.max(r.peakRssMiB, rssMiB(store.proc.pid));
  }, 100);
  let clock = BigInt(Date.now()) * 1_000_000n;
  const writer = async (w: number) => {
    for (let seq = 0; Date.now() < end; seq++) {
      const ids = Array.from({ length: o.batch }, (_, i) => `o-w${w}-s${seq}-${i}`);
      const body = ids
        .map((id) => `crash,cluster=crash,hostname=h${w} event="{\\"id\\":\\"${id}\\"}" ${clock++}`)
        .join('\n');
      const res = await fetch(`${store.api}/api/write`, { method: 'POST', body });
      await res.arrayBuffer();
      r.requests++;
      r.status[res.status] = (r.status[res.status] ?? 0) + 1;
      if (res.status === 204) r.acknowledgedIds.push(...ids);
      if (res.status === 503) {
        const retry = Number(res.headers.get('retry-after'));
        if (!Number.isInteger(retry) || retry < 1) r.missingRetryAfter++;
        // A well-behaved client waits; a short wait keeps the pressure at 10x.
        await new Promise((done) => setTimeout(done, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: o.writers }, (_, w) => writer(w)));
  clearInterval(sampler);
  r.peakRssMiB = Math.max(r.peakRssMiB, rssMiB(store.proc.pid));
  return r;
}
