/**
 * Typical event records for the SQLite benchmarks: job and node-state events of a cluster
 * of 500 hosts, one every 10 ms of event time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createLogger } from '../../core/logger.ts';
import { buildRecord, type EventRecord } from '../../core/record.ts';
import plugin from '../../plugins/storage/sqlite/index.ts';
import type { SqliteStorage } from '../../plugins/storage/sqlite/sqlite-storage.ts';

/** First event time of the data set (2025-01-01T12:00:00Z). */
export const START = 1_735_732_800_000_000_000n;
/** Event-time step between consecutive records. */
export const STEP = 10_000_000n;
/** Hosts node001 ... node500. */
export const HOSTS = 500;

export const quietLogger: Logger = createLogger({ level: 'silent' });

/** The i-th typical event. */
export function typicalEvent(i: number, receivedAt: bigint): EventRecord {
  const host = `node${String((i % HOSTS) + 1).padStart(3, '0')}`;
  const start = i % 4 === 0;
  const payload = start
    ? `{"jobId":${100000 + i},"cluster":"testcluster","user":"user${i % 97}",` +
      `"project":"proj${i % 13}","numNodes":1,"resources":[{"hostname":"${host}"}],` +
      `"startTime":${1735732800 + i}}`
    : `{"cluster":"testcluster","nodes":[{"hostname":"${host}","states":["allocated"],` +
      `"jobsRunning":${i % 5}}]}`;
  const built = buildRecord(
    {
      name: start ? 'job' : 'nodestate',
      tags: {
        cluster: 'testcluster',
        hostname: host,
        type: 'node',
        'type-id': '0',
        function: start ? 'start_job' : 'state',
      },
      fields: { event: payload },
      time: START + BigInt(i) * STEP,
    },
    'event',
    receivedAt,
  );
  if (!built.ok) throw new Error(built.detail);
  return built.record;
}

/** `count` typical events starting at index `from`. */
export function typicalEvents(count: number, from = 0): EventRecord[] {
  const receivedAt = START + 3_600_000_000_000n;
  return Array.from({ length: count }, (_, k) => typicalEvent(from + k, receivedAt));
}

/** An opened SQLite storage in a fresh temp folder. */
export async function freshStorage(
  name: string,
  config: { background_checkpoint?: boolean } = {},
): Promise<{ storage: SqliteStorage; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), `cces-bench-${name}-`));
  const storage = (await plugin.create(
    { database_path: 'events.db', ...config },
    { name, logger: quietLogger, configDir: dir },
  )) as SqliteStorage;
  await storage.open();
  return { storage, dir };
}
