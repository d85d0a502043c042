/**
 * Storage-fault helpers: a steady HTTP load that records every answer, a tiny tmpfs to fill,
 * immutable files, and the skip rule for machines where those need rights the test lacks.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A refused write as the client saw it. */
export interface Refusal {
  status: number;
  code: string;
  message: string;
  retryAfter: string | null;
}

/** Writers posting unique `crash` events (as crash.ts reads them back) until stopped. */
export class FaultLoad {
  readonly acked: string[] = [];
  readonly status: Record<number, number> = {};
  /** Refused writes in order (the first 1000). */
  readonly refusals: Refusal[] = [];
  /** 503 answers without a positive integer Retry-After. */
  missingRetryAfter = 0;
  readonly failures: unknown[] = [];
  #stopped = false;
  readonly #done: Promise<unknown>;

  constructor(api: string, o: { writers: number; batch: number; pad: number; tag: string }) {
    let clock = BigInt(Date.now()) * 1_000_000n;
    const pad = 'x'.repeat(o.pad);
    const writer = async (w: number) => {
      for (let seq = 0; !this.#stopped; seq++) {
        const ids = Array.from({ length: o.batch }, (_, i) => `${o.tag}-w${w}-s${seq}-${i}`);
        const body = ids
          .map((id) => {
            const payload = `{\\"id\\":\\"${id}\\",\\"pad\\":\\"${pad}\\"}`;
            return `crash,cluster=crash,hostname=h${w} event="${payload}" ${clock++}`;
          })
          .join('\n');
        try {
          await this.#post(api, body, ids);
        } catch (err) {
          this.failures.push(err);
          return;
        }
      }
    };
    this.#done = Promise.all(Array.from({ length: o.writers }, (_, w) => writer(w)));
  }

  /** Stops the writers and waits for their last answers. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#done;
  }

  async #post(api: string, body: string, ids: string[]): Promise<void> {
    const res = await fetch(`${api}/api/write`, { method: 'POST', body });
    this.status[res.status] = (this.status[res.status] ?? 0) + 1;
    if (res.status === 204) {
      this.acked.push(...ids);
      return;
    }
    const text = await res.text();
    const parsed = JSON.parse(text) as { code?: string; message?: string };
    const retryAfter = res.headers.get('retry-after');
    const { code = '', message = '' } = parsed;
    if (this.refusals.length < 1000)
      this.refusals.push({ status: res.status, code, message, retryAfter });
    if (res.status === 503) {
      const n = Number(retryAfter);
      if (!Number.isInteger(n) || n < 1) this.missingRetryAfter++;
    }
    // A client backs off a little; keeps the queue full without a busy loop.
    await sleep(50);
  }
}

/** Resolves once `check` holds, polling every 50 ms; fails after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Status of `GET /readyz`. */
export async function readyStatus(api: string): Promise<number> {
  const res = await fetch(`${api}/readyz`);
  await res.arrayBuffer();
  return res.status;
}

/** Writes `file` until the file system is full; returns the bytes written. */
export function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  let total = 0;
  try {
    for (;;) total += writeSync(fd, chunk);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return total;
}

/** Mounts a tmpfs of `size` (such as "3m") on `dir`. */
export function mountTmpfs(dir: string, size: string): void {
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
}

/** Unmounts `dir`; lazily when something still holds it, so cleanup never throws. */
export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    // A process that outlived its kill still holds a file: detach, the kernel frees it later.
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
}

/** Sets or clears the immutable attribute (`chattr ±i`), which binds root too. */
export function setImmutable(files: readonly string[], on: boolean): void {
  execFileSync('chattr', [on ? '+i' : '-i', ...files], { stdio: 'pipe' });
}

/**
 * Why a fault cannot be staged here (false when it can): `probe` tries it once. Under CI a
 * missing right fails the run instead.
 */
export function faultSkip(what: string, probe: () => void): string | false {
  let reason: string | undefined;
  if (process.getuid?.() !== 0) reason = `${what} needs root`;
  else {
    try {
      probe();
    } catch (err) {
      reason = `${what} is not permitted here: ${(err as Error).message.split('\n')[0]}`;
    }
  }
  if (reason === undefined) return false;
  if (process.env.CI) throw new Error(`${reason} (required under CI)`);
  return `${reason}; skipped`;
}
