/**
 * End to end: the real process on a temp copy of the default config (SQLite, REST API),
 * every sample posted over HTTP, read back exactly, the process killed with SIGKILL and
 * started again on the same database, then every status code of the write and query
 * routes provoked once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { decode } from '../../core/lineproto/index.ts';
import { classifyMessage } from '../../core/message.ts';
import { buildRecord } from '../../core/record.ts';
import { readSample, repoRoot, sampleNames } from '../helpers/samples.ts';

interface Store {
  proc: ChildProcess;
  base: string;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

interface Item {
  name: string;
  cluster: string;
  tags: Record<string, string>;
  payload: string;
  time: string;
  received_at: string;
}

const dir = mkdtempSync(join(tmpdir(), 'cces-e2e-'));
const configDir = join(dir, 'config');
const running: Store[] = [];

/** Writes one file of the config copy, changed by `edit`. */
function editConfig(file: string, edit: (cfg: Record<string, any>) => void): void {
  const path = join(configDir, file);
  const cfg = JSON.parse(readFileSync(path, 'utf8'));
  edit(cfg);
  writeFileSync(path, JSON.stringify(cfg, null, 2));
}

/** Starts the real process; resolves once it logged "store started" with the API address. */
async function startStore(): Promise<Store> {
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', 'core/cli.ts', '--config', join(configDir, 'config.json')],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'info' },
    },
  );
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const started = new Promise<number>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, any>;
      logs.push(entry);
      if (entry.msg === 'store started') resolve(entry.api.port);
    });
    void exited.then((code) =>
      reject(new Error(`store exited (${code}) before it started: ${stderr}`)),
    );
  });
  const store = { proc, base: `http://127.0.0.1:${await started}`, logs, exited };
  running.push(store);
  return store;
}

async function kill(store: Store, signal: NodeJS.Signals): Promise<number | null> {
  store.proc.kill(signal);
  return store.exited;
}

/** Every event or log over the API, oldest first. */
async function readAll(base: string, kind: 'events' | 'logs', headers = {}): Promise<Item[]> {
  const res = await fetch(`${base}/api/v1/${kind}?order=asc&limit=10000`, { headers });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { items: Item[]; next_cursor: string | null };
  assert.equal(body.next_cursor, null);
  return body.items;
}

/** What each sample should leave in storage, computed from the codec in this process. */
function expectedRecords(posts: [string, string?][]) {
  const byKey = new Map<
    bigint,
    { kind: string; name: string; cluster: string; tags: object; payload: string; time: string }
  >();
  for (const [name, cluster] of posts) {
    for (const msg of decode(readSample(name), { now: -1n }).messages) {
      const kind = classifyMessage(msg);
      if (kind !== 'event' && kind !== 'log') continue;
      const built = buildRecord(msg, kind, 0n, cluster);
      if (!built.ok) continue;
      const r = built.record;
      byKey.set(r.key, {
        kind,
        name: r.name,
        cluster: r.cluster,
        tags: { ...r.tags },
        payload: r.payload,
        time: String(r.time),
      });
    }
  }
  return [...byKey.values()];
}

const view = (i: {
  time: string;
  name: string;
  cluster: string;
  payload: string;
  tags: object;
}) => [i.time, i.name, i.cluster, i.payload, i.tags];
const order = (a: unknown[], b: unknown[]) =>
  String(a[0]).padStart(24) + a[1] + a[3] < String(b[0]).padStart(24) + b[1] + b[3] ? -1 : 1;

const POSTS: [string, string?][] = [
  ...sampleNames().map((n): [string] => [n]),
  ['missing-cluster.lp', 'clusterb'],
  ['logs.lp', 'testcluster'],
];

const STATUS: Record<string, number> = {
  'logs.lp': 400,
  'malformed-bytes.lp': 400,
  'malformed.lp': 400,
  'missing-cluster.lp': 400,
  'timestamps.lp': 400,
};

describe('cc-event-store end to end on the default SQLite config', () => {
  let events: Item[];
  let logs: Item[];

  before(() => {
    cpSync(join(repoRoot, 'config'), configDir, { recursive: true });
    editConfig('api.json', (c) => (c.port = 0));
    // The samples are from 2025: the default 48h retention would delete them at the restart.
    editConfig('storage.json', (c) => (c.retention_time = '0'));
  });
  after(async () => {
    for (const s of running)
      if (s.proc.exitCode === null && s.proc.signalCode === null) await kill(s, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores every sample posted to /api/write and reads it back exactly', async () => {
    const store = await startStore();
    for (const [name, cluster] of POSTS) {
      const url = `${store.base}/api/write${cluster ? `?cluster=${cluster}` : ''}`;
      const res = await fetch(url, { method: 'POST', body: readSample(name) });
      assert.equal(
        res.status,
        cluster ? 204 : (STATUS[name] ?? 204),
        `${name} ${await res.text()}`,
      );
    }

    events = await readAll(store.base, 'events');
    logs = await readAll(store.base, 'logs');
    const expected = expectedRecords(POSTS);
    const noTime = (i: Item) => i.payload === 'no timestamp';
    for (const [items, kind] of [
      [events, 'event'],
      [logs, 'log'],
    ] as const) {
      const want = expected.filter((e) => e.kind === kind && !(e.payload === 'no timestamp'));
      assert.deepEqual(
        items
          .filter((i) => !noTime(i))
          .map(view)
          .sort(order),
        want.map(view).sort(order),
      );
    }
    assert.equal(events.length, 72);
    assert.equal(logs.length, 14);

    // Spot checks against the samples' own comments, independent of the codec.
    const stamped = events.find(noTime)!;
    assert.equal(stamped.time, stamped.received_at);
    const long = events.find((i) => i.payload.length > 70_000)!;
    assert.equal(Buffer.byteLength(long.payload), 79_391);
    const wide = events.find((i) => i.tags.nodes !== undefined)!;
    assert.equal(wide.tags.nodes!.length, 3999);
    assert.equal(wide.tags.nodes!.split(',').length, 500);
    const us = events.find((i) => i.payload === 'microseconds')!;
    assert.equal(us.time, '1735732800123456000');
    const spaced = events.find((i) => i.payload === 'quota exceeded')!;
    assert.deepEqual(spaced.tags, {
      hostname: 'node001',
      stype: 'filesystem',
      'stype-id': '/home shared',
      type: 'node',
      'type-id': '0',
    });
    const nul = events.find((i) => i.payload.startsWith('nul:'))!;
    assert.equal(nul.payload, 'nul:\u0000 tab:\t end');
    const noCluster = logs.find((i) => i.name === 'ccnc')!;
    assert.equal(noCluster.cluster, 'clusterb');

    // Acknowledged means committed: SIGKILL loses nothing.
    assert.equal(await kill(store, 'SIGKILL'), null);
  });

  it('finds the same data after a restart on the same database', async () => {
    const store = await startStore();
    assert.deepEqual(await readAll(store.base, 'events'), events);
    assert.deepEqual(await readAll(store.base, 'logs'), logs);
    assert.equal(await kill(store, 'SIGTERM'), 0);
    assert.ok(store.logs.some((l) => l.msg === 'stopped' && l.failures === 0));
  });

  it('answers every status code of the write and query routes', async () => {
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const raw = Buffer.from((await exportJWK(pair.publicKey)).x!, 'base64url');
    editConfig('api.json', (c) => {
      c.jwt_public_key = raw.toString('base64');
      c.max_body_size = '1MiB';
    });
    editConfig('storage.json', (c) => {
      c.max_queue = 1;
      c.backend.busy_timeout = '100ms';
    });
    const store = await startStore();
    const sign = (claims: object) =>
      new SignJWT({ ...claims }).setProtectedHeader({ alg: 'EdDSA' }).sign(pair.privateKey);
    const auth = { authorization: `Bearer ${await sign({ roles: ['api'] })}` };
    const write = (body: string | Buffer, headers: Record<string, string> = auth) =>
      fetch(`${store.base}/api/write`, { method: 'POST', body, headers });

    assert.equal((await write('e2e,cluster=c event="ok" 1')).status, 204);
    assert.equal((await write('broken')).status, 400);
    assert.equal((await write('e2e,cluster=c event="x" 2', {})).status, 401);
    const user = { authorization: `Bearer ${await sign({ roles: ['user'] })}` };
    assert.equal((await write('e2e,cluster=c event="x" 3', user)).status, 403);
    assert.equal((await write(Buffer.alloc(2 * 1024 * 1024, 0x61))).status, 413);
    assert.equal((await fetch(`${store.base}/healthz`)).status, 200);
    assert.deepEqual(await readAll(store.base, 'logs', auth), logs);

    // A full queue (max_queue 1): concurrent writers beyond the first are refused.
    let refused: Response | undefined;
    for (let round = 0; round < 20 && !refused; round++) {
      const all = await Promise.all(
        Array.from({ length: 16 }, () => write(readSample('job-events.lp'))),
      );
      refused = all.find((r) => r.status === 503);
      assert.ok(all.every((r) => r.status === 204 || r.status === 503));
    }
    assert.ok(refused, 'no write was refused with 503');
    assert.match(refused.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);

    // A database locked by another process: readiness fails and a write is a storage failure.
    const db = new Database(join(dir, 'data', 'events.db'));
    try {
      db.exec('BEGIN EXCLUSIVE');
      assert.equal((await fetch(`${store.base}/readyz`)).status, 503);
      const failed = await write('e2e,cluster=c event="locked" 4');
      assert.equal(failed.status, 500);
      assert.equal(((await failed.json()) as { code: string }).code, 'CCES_ERR_STORAGE_WRITE');
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    assert.equal((await fetch(`${store.base}/readyz`)).status, 200);
    assert.equal((await write('e2e,cluster=c event="unlocked" 5')).status, 204);
    const e2e = (await readAll(store.base, 'events', auth)).filter((i) => i.name === 'e2e');
    assert.deepEqual(
      e2e.map((i) => i.payload),
      ['ok', 'unlocked'],
    );
    assert.equal(await kill(store, 'SIGTERM'), 0);
  });
});
