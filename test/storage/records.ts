/**
 * Records and a fixed data set for the shared storage suite, built with `buildRecord` from
 * messages constructed here (no codec involved), and helpers that compare records exactly.
 */
import type { QueryPage } from '../../core/contracts/storage.ts';
import type { FieldValue } from '../../core/message.ts';
import { buildRecord, extraToJson, type EventRecord, type RecordKind } from '../../core/record.ts';

/** 2025-01-01T12:00:00Z in ns: the base time of the data sets. */
export const T0 = 1_735_732_800_000_000_000n;

/** The receive time every suite record carries unless a test says otherwise. */
export const RECEIVED = 1_735_733_000_123_456_789n;

/** Builds an event or log record; `tags` may hold `cluster`. */
export function rec(
  kind: RecordKind,
  name: string,
  tags: Record<string, string>,
  payload: string,
  time: bigint,
  extra?: Record<string, FieldValue>,
): EventRecord {
  const fields: Record<string, FieldValue> = Object.create(null);
  fields[kind] = payload;
  for (const [k, v] of Object.entries(extra ?? {})) fields[k] = v;
  const msgTags: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(tags)) msgTags[k] = v;
  const built = buildRecord({ name, tags: msgTags, fields, time }, kind, RECEIVED);
  if (!built.ok) throw new Error(`test record not buildable: ${built.detail}`);
  return built.record;
}

/** The comparable form of a record: what any backend must give back, ids left out. */
export function canonical(r: EventRecord): Record<string, unknown> {
  const tags: Record<string, string> = {};
  for (const k of Object.keys(r.tags).sort()) tags[k] = r.tags[k]!;
  return {
    kind: r.kind,
    cluster: r.cluster,
    name: r.name,
    time: r.time,
    receivedAt: r.receivedAt,
    tags,
    payload: r.payload,
    // Backends return extra fields as parsed JSON (integers as JSON numbers).
    extra: r.extra === undefined ? undefined : JSON.parse(extraToJson(r.extra)),
    jobId: r.jobId,
    key: r.key,
  };
}

/** The `label` tag of every record of a page, in order. */
export function labels(page: QueryPage): string[] {
  return page.records.map((r) => r.tags.label ?? '?');
}

/** Tags of the fixed data set's records beside their label. */
function fx(label: string, cluster: string, tags: Record<string, string>) {
  return { cluster, label, ...tags };
}

/**
 * Six events and five logs whose fields differ so that each filter selects a known subset.
 * e5 and e6 share a time, so their order is decided by id (write order).
 */
export function fixture(): { events: EventRecord[]; logs: EventRecord[] } {
  const tc = 'testcluster';
  const cb = 'clusterb';
  const events = [
    rec(
      'event',
      'job',
      fx('e1', tc, { hostname: 'node001', type: 'node', 'type-id': '0', function: 'start_job' }),
      '{"jobId":4711,"cluster":"testcluster","user":"user001"}',
      T0 + 1n,
    ),
    rec(
      'event',
      'job',
      fx('e2', tc, { hostname: 'node002', function: 'stop_job' }),
      '{"jobId":4711,"jobState":"completed"}',
      T0 + 2n,
    ),
    rec(
      'event',
      'nodestate',
      fx('e3', cb, {
        hostname: 'node001',
        type: 'socket',
        'type-id': '1',
        stype: 'core',
        'stype-id': '3',
      }),
      'Node FAILED: 50% of memory_errors',
      T0 + 3n,
    ),
    rec(
      'event',
      'alert',
      fx('e4', tc, {
        hostname: 'ctrl01',
        type: 'node',
        'type-id': '1',
        stype: 'core',
        'stype-id': '4',
        partition: 'batch',
      }),
      'plain text alert',
      T0 + 4n,
    ),
    rec(
      'event',
      'job',
      fx('e5', cb, { hostname: 'node003', function: 'start_job' }),
      '{"jobId":"abc","cluster":"clusterb"}',
      T0 + 5n,
    ),
    rec('event', 'alert', fx('e6', cb, { hostname: 'node001' }), 'another_alert', T0 + 5n),
  ];
  const logs = [
    rec(
      'log',
      'ccb',
      fx('l1', tc, { hostname: 'server01', loglevel: 'ERROR' }),
      'panic: x',
      T0 + 1n,
    ),
    rec('log', 'ccms', fx('l2', tc, { hostname: 'server01', loglevel: 'warn' }), 'slow', T0 + 2n),
    rec(
      'log',
      'topology',
      fx('l3', cb, { hostname: 'node001', level: 'INFO' }),
      '{"hwthreads":[]}',
      T0 + 3n,
    ),
    rec(
      'log',
      'ccb',
      fx('l4', tc, { hostname: 'node001', loglevel: 'info', level: 'error' }),
      'mixed',
      T0 + 4n,
    ),
    rec('log', 'ccb', fx('l5', tc, { hostname: 'node002' }), 'no level', T0 + 5n),
  ];
  return { events, logs };
}
