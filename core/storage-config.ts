/**
 * The storage config file's top level and the storage manager's options derived from it.
 */
import { Type, type Static } from 'typebox';
import { parseDuration, parseDurationMs } from './duration.ts';

const Duration = (def: string) =>
  Type.String({ pattern: '^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$', default: def });

/**
 * Schema of `storage.json`: the manager's settings plus `backend`, whose own keys the host
 * checks against the backend plugin's schema.
 */
export const StorageManagerSchema = Type.Object(
  {
    /** Events older than this are deleted; "0" keeps them. */
    retention_time: Type.Optional(Duration('48h')),
    /** Logs older than this are deleted; absent keeps logs. */
    log_retention_time: Type.Optional(Duration('0')),
    retention_interval: Type.Optional(Duration('1h')),
    /** The longest a record may wait in the queue before its commit starts. */
    flush_time: Type.Optional(Duration('1s')),
    /** Records per transaction at most. */
    batch_size: Type.Optional(Type.Integer({ minimum: 1, default: 1000 })),
    /** Records queued at most; more are refused with CCES_ERR_INGEST_OVERLOADED. */
    max_queue: Type.Optional(Type.Integer({ minimum: 1, default: 100000 })),
    rejected_max_count: Type.Optional(Type.Integer({ minimum: 0, default: 100000 })),
    rejected_max_age: Type.Optional(Duration('168h')),
    backend: Type.Object({ type: Type.String({ minLength: 1 }) }, { additionalProperties: true }),
  },
  { additionalProperties: false },
);

/** The storage config as read. */
export type StorageManagerConfig = Static<typeof StorageManagerSchema>;

/** What the storage manager runs with. */
export interface StorageManagerOptions {
  batchSize: number;
  flushTimeMs: number;
  maxQueue: number;
  /** 0n keeps events forever. */
  retentionNs: bigint;
  /** Absent (or 0n) keeps logs forever. */
  logRetentionNs?: bigint;
  retentionIntervalMs: number;
  /** Records deleted per retention step; ingest goes on between steps. */
  retentionChunk: number;
  rejectedMaxCount: number;
  rejectedMaxAgeNs: bigint;
}

/** Options from a storage config, with the defaults of the original where keys are absent. */
export function storageManagerOptions(cfg: StorageManagerConfig): StorageManagerOptions {
  const logRetention = cfg.log_retention_time ? parseDuration(cfg.log_retention_time) : 0n;
  const opts: StorageManagerOptions = {
    batchSize: cfg.batch_size ?? 1000,
    flushTimeMs: parseDurationMs(cfg.flush_time ?? '1s'),
    maxQueue: cfg.max_queue ?? 100_000,
    retentionNs: parseDuration(cfg.retention_time ?? '48h'),
    retentionIntervalMs: Math.max(1000, parseDurationMs(cfg.retention_interval ?? '1h')),
    retentionChunk: 5000,
    rejectedMaxCount: cfg.rejected_max_count ?? 100_000,
    rejectedMaxAgeNs: parseDuration(cfg.rejected_max_age ?? '168h'),
  };
  if (logRetention > 0n) opts.logRetentionNs = logRetention;
  return opts;
}
