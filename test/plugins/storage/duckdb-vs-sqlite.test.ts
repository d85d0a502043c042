/**
 * Differential check: every sample file, decoded and written to DuckDB and to SQLite, gives
 * the same answer to the same queries on both.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Storage, StorageQuery } from '../../../core/contracts/storage.ts';
import { decode } from '../../../core/lineproto/index.ts';
import { createLogger } from '../../../core/logger.ts';
import { classifyMessage } from '../../../core/message.ts';
import { buildRecord, type EventRecord, type StoredRecord } from '../../../core/record.ts';
import duckdb from '../../../plugins/storage/duckdb/index.ts';
import sqlite from '../../../plugins/storage/sqlite/index.ts';
import { readSample, sampleNames } from '../../helpers/samples.ts';

const logger = createLogger({ level: 'silent' });
const RECEIVED = 1_735_800_000_000_000_000n;

function sampleRecords(): EventRecord[] {
  const records: EventRecord[] = [];
  for (const name of sampleNames()) {
    const { messages } = decode(readSample(name), { now: RECEIVED });
    for (const msg of messages) {
      const kind = classifyMessage(msg);
      if (kind !== 'event' && kind !== 'log') continue;
      const built = buildRecord(msg, kind, RECEIVED, 'defaultcluster');
      if (built.ok) records.push(built.record);
    }
  }
  // The samples are ASCII; these payloads tell ASCII-only case folding from Unicode folding.
  const unicode = ['Crème BRÛLÉE', 'crème brûlée', 'Kelvin \u212a', 'İstanbul', 'STRAßE'];
  unicode.forEach((payload, i) => {
    const time = RECEIVED + BigInt(i);
    const msg = { name: 'note', tags: { cluster: 'u' }, fields: { event: payload }, time };
    const built = buildRecord(msg, 'event', RECEIVED);
    if (built.ok) records.push(built.record);
  });
  return records;
}

/** Everything but the id, which each backend assigns itself. */
function comparable(records: StoredRecord[]) {
  return records.map(({ id: _id, ...r }) => ({ ...r, tags: { ...r.tags } }));
}

const QUERIES: Array<Omit<StorageQuery, 'kind' | 'order' | 'limit'>> = [
  {},
  { clusters: ['testcluster'] },
  { clusters: ['clusterb', 'defaultcluster'] },
  { hostnames: ['node001', 'ctrl01'] },
  { names: ['job'], functions: ['start_job'] },
  { types: ['node'], typeIds: ['0'] },
  { stypes: ['core'] },
  { loglevels: ['ERROR'] },
  { loglevels: ['info', 'warn'] },
  { jobId: '4711' },
  { jobId: '1001' },
  { tags: { partition: 'batch' } },
  { tags: { method: 'GET' } },
  { text: 'JOB' },
  { text: 'CRèME' },
  { text: 'CRÈME' },
  { text: 'brûlée' },
  { text: 'kelvin k' },
  { text: 'istanbul' },
  { text: 'strasse' },
  { text: 'straße' },
  { text: '\\' },
  { text: '%' },
  { text: '_' },
  { text: '"' },
  { text: 'panic: runtime' },
  { from: 1_735_732_800_000_000_000n, to: 1_735_736_400_000_000_000n },
];

describe('duckdb answers as sqlite does on the samples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cces-duck-vs-lite-'));
  const ctx = (name: string) => ({ name, logger, configDir: dir });
  let duck: Storage;
  let lite: Storage;
  let records: EventRecord[];

  before(async () => {
    duck = await duckdb.create({ database_path: 'd/events.duckdb' }, ctx('duckdb'));
    lite = await sqlite.create({ database_path: 's/events.db' }, ctx('sqlite'));
    await Promise.all([duck.open(), lite.open()]);
    records = sampleRecords();
    const [d, s] = await Promise.all([duck.write(records), lite.write(records)]);
    assert.deepEqual(d, s);
    assert.ok(d.filter((o) => o.status === 'stored').length > 50);
  });
  after(async () => {
    await Promise.all([duck.close(), lite.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the same outcomes to a second write of every record', async () => {
    const [d, s] = await Promise.all([duck.write(records), lite.write(records)]);
    assert.deepEqual(d, s);
    assert.ok(d.every((o) => o.status !== 'stored'));
  });

  it('answers every query alike, in both orders and kinds', async () => {
    for (const kind of ['event', 'log'] as const) {
      for (const order of ['asc', 'desc'] as const) {
        for (const q of QUERIES) {
          const full = { ...q, kind, order, limit: 10_000 };
          const [d, s] = await Promise.all([duck.query(full), lite.query(full)]);
          assert.deepEqual(comparable(d.records), comparable(s.records), JSON.stringify(q, big));
        }
      }
    }
  });

  it('pages alike', async () => {
    const pages = async (storage: Storage) => {
      const seen: StoredRecord[] = [];
      let after: StorageQuery['after'];
      do {
        const page = await storage.query({ kind: 'event', order: 'desc', limit: 7, after });
        seen.push(...page.records);
        after = page.next;
      } while (after);
      return comparable(seen);
    };
    assert.deepEqual(await pages(duck), await pages(lite));
  });
});

function big(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
