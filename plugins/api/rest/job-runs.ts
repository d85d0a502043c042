/**
 * Pairing a job's start and stop events into runs. A requeued job starts more than once
 * under one jobId; its starts differ by the payload's `startTime`. Shapes handled (see
 * ../shared/samples/job-events.lp): measurement `job` with tag `function=start_job` or
 * `stop_job` (scheduler adapters, cc-backend docs), and measurements `start_job`/`stop_job`
 * (cc-lib helpers, whose stop carries the start time and a duration instead of `stopTime`).
 */
import type { StoredRecord } from '../../../core/record.ts';

/** One run of a job: its start and stop events and the time window between them. */
export interface JobRun {
  /** `startTime` of the payload (Unix seconds), else of the start event's time. */
  startTime: number | null;
  start: StoredRecord | null;
  stop: StoredRecord | null;
  /** Window start, ns, inclusive; null when the start is unknown. */
  from: bigint | null;
  /** Window end, ns, inclusive; null while the job runs. */
  to: bigint | null;
  /** `resources[].hostname` of the start (or, without a start, of the stop). */
  hosts: string[];
}

/** The measurement names that hold job starts and stops. */
export const JOB_EVENT_NAMES = ['job', 'start_job', 'stop_job'];

const NS = 1_000_000_000n;

/** Pairs the job events of one jobId (in time order) into runs, oldest first. */
export function pairJobRuns(records: readonly StoredRecord[]): JobRun[] {
  const runs: JobRun[] = [];
  for (const r of records) {
    if (phaseOf(r) !== 'start') continue;
    const json = payloadOf(r);
    const startTime = num(json.startTime) ?? Number(r.time / NS);
    runs.push({ startTime, start: r, stop: null, from: r.time, to: null, hosts: hostsOf(json) });
  }
  for (const r of records) {
    if (phaseOf(r) !== 'stop') continue;
    const json = payloadOf(r);
    const run = runOfStop(runs, r, num(json.startTime));
    if (run) {
      run.stop = r;
      run.to = endOf(r, json, run.startTime);
    } else if (repeatsStop(runs, r, json)) {
      // The same stop once more (another sender, other tags): no run of its own.
      continue;
    } else {
      const startTime = num(json.startTime) ?? null;
      runs.push({ startTime, start: null, stop: r, from: null, to: r.time, hosts: hostsOf(json) });
    }
  }
  return runs.sort((a, b) => (a.startTime ?? -Infinity) - (b.startTime ?? -Infinity));
}

/** `start`, `stop`, or undefined for other events of the job. */
export function phaseOf(r: StoredRecord): 'start' | 'stop' | undefined {
  const fn = r.name === 'job' ? r.tags.function : r.name;
  if (fn === 'start_job') return 'start';
  if (fn === 'stop_job') return 'stop';
  return undefined;
}

// A stop naming its start time belongs to that run; any other stop to the latest run
// started at or before it that has no stop yet.
function runOfStop(runs: JobRun[], stop: StoredRecord, startTime: number | undefined) {
  if (startTime !== undefined) {
    const exact = runs.find((run) => run.startTime === startTime && !run.stop);
    if (exact) return exact;
  }
  let best: JobRun | undefined;
  for (const run of runs) {
    if (run.stop || run.from === null || run.from > stop.time) continue;
    if (!best || run.from > best.from!) best = run;
  }
  return best;
}

// Whether a stop that found no open run ends a stopped run at the same moment.
function repeatsStop(runs: JobRun[], stop: StoredRecord, json: Record<string, unknown>): boolean {
  return runs.some((run) => run.stop !== null && run.to === endOf(stop, json, run.startTime));
}

// The stop time of the payload, else start plus duration, else the stop event's time.
function endOf(stop: StoredRecord, json: Record<string, unknown>, startTime: number | null) {
  const stopTime = num(json.stopTime);
  if (stopTime !== undefined) return BigInt(stopTime) * NS;
  const duration = num(json.duration);
  if (duration !== undefined && duration > 0 && startTime !== null) {
    return BigInt(startTime + duration) * NS;
  }
  return stop.time;
}

function hostsOf(json: Record<string, unknown>): string[] {
  const resources = Array.isArray(json.resources) ? json.resources : [];
  const hosts = new Set<string>();
  for (const res of resources) {
    const h = (res as { hostname?: unknown } | null)?.hostname;
    if (typeof h === 'string' && h !== '') hosts.add(h);
  }
  return [...hosts];
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

function payloadOf(r: StoredRecord): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(r.payload);
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : {};
  } catch {
    // A job event whose payload is not JSON has no start time, stop time or hosts.
    return {};
  }
}
