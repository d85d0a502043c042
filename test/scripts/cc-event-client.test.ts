import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connect, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { startHost, type Host } from '../../core/host.ts';
import { decode } from '../../core/lineproto/index.ts';
import { readSample, repoRoot, samplesDir } from '../helpers/samples.ts';
import { natsSkip } from '../helpers/services.ts';
import { expectedFrom, NATS_URL, uniqueName, waitFor } from '../helpers/nats.ts';

const skipNats = await natsSkip();
const dir = mkdtempSync(join(tmpdir(), 'cces-client-'));
const bin = join(repoRoot, 'scripts/cc-event-client.mjs');
let host: Host;
let writeUrl: string;
let apiBase: string;
let nc: NatsConnection | undefined;

before(async () => {
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      receivers: {},
      storage: {
        retention_time: '0',
        flush_time: '5ms',
        backend: { type: 'sqlite', database_path: 'events.db' },
      },
      api: { address: '127.0.0.1', port: 0 },
    }),
  );
  host = await startHost(join(dir, 'config.json'), { logger: pino({ level: 'silent' }) });
  const { port } = host.apiAddress()!;
  apiBase = `http://127.0.0.1:${port}`;
  writeUrl = `${apiBase}/api/write`;
  if (!skipNats) nc = await connect({ servers: NATS_URL });
});

after(async () => {
  await host?.stop();
  await nc?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the client's bin as a user would, with `stdin` piped in. */
function client(args: string[], stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

function collect(subject: string): Msg[] {
  const got: Msg[] = [];
  nc!.subscribe(subject, { callback: (_e, m) => void got.push(m) });
  return got;
}

const EVENT = ['--name', 'myevent', '--cluster', 'testcluster', '--hostname', 'login01'];

describe('cc-event-client --print', () => {
  it('prints the encoded event, tags sorted, time as given', async () => {
    const r = await client([
      ...EVENT,
      '--event',
      'This is my event',
      '--time',
      '1735732805000000000',
      '--print',
    ]);
    assert.deepEqual(r, {
      code: 0,
      stdout:
        'myevent,cluster=testcluster,hostname=login01 event="This is my event" 1735732805000000000\n',
      stderr: '',
    });
  });

  it('escapes tags and payloads and writes the stated precision', async () => {
    const args = [
      '--name',
      'ccb',
      '--tag',
      'loglevel=warn',
      '--tag',
      'a b=x,y',
      '--log',
      'say "hi"\\',
    ];
    const r = await client([...args, '--precision', 's', '--time', '1735732805', '--print']);
    assert.equal(r.stdout, 'ccb,a\\ b=x\\,y,loglevel=warn log="say \\"hi\\"\\\\" 1735732805\n');
    assert.equal(r.code, 0);
  });

  it('reads the payload from stdin or a file, without the final line end', async () => {
    const fromStdin = await client(
      ['--name', 'n', '--event', '-', '--time', '5', '--print'],
      'line1\nline2\n',
    );
    assert.equal(fromStdin.stdout, 'n event="line1\\nline2" 5\n');
    writeFileSync(join(dir, 'payload.txt'), '{"jobId":1}\n');
    const fromFile = await client([
      '--name',
      'n',
      '--file',
      'payload.txt',
      '--kind',
      'log',
      '--time',
      '5',
      '--print',
    ]);
    assert.equal(fromFile.stdout, 'n log="{\\"jobId\\":1}" 5\n');
  });

  it('stamps the current time when --time is absent', async () => {
    const before = BigInt(Date.now()) * 1_000_000n;
    const r = await client(['--name', 'n', '--event', 'x', '--print']);
    const { messages } = decode(r.stdout);
    assert.equal(messages.length, 1);
    assert.ok(messages[0]!.time >= before && messages[0]!.time <= BigInt(Date.now()) * 1_000_000n);
  });

  it('exits 2 with a reason for a command line that cannot work', async () => {
    const cases: [string[], string][] = [
      [['--name', 'n', '--event', 'x'], 'give one destination: --nats <url> or --http <url>'],
      [['--name', 'n', '--event', 'x', '--nats', NATS_URL], '--nats needs --subject'],
      [['--event', 'x', '--print'], '--name is required'],
      [
        ['--name', 'n', '--event', 'x', '--log', 'y', '--print'],
        'give exactly one of --event, --log, --file or --send-file',
      ],
      [
        ['--name', 'n', '--event', 'x', '--tag', 'novalue', '--print'],
        '--tag "novalue" is not key=value',
      ],
      [
        ['--name', 'n', '--event', 'x', '--precision', 'm', '--print'],
        '--precision "m" is not one of s, ms, us, ns',
      ],
      [
        ['--name', 'n', '--event', 'x', '--cluster', '', '--print'],
        '--cluster needs a non-empty value',
      ],
      [
        ['--name', 'n', '--event', 'x', '--hostname', '', '--http', 'http://127.0.0.1:1/'],
        '--hostname needs a non-empty value',
      ],
      [
        ['--name', 'n', '--event', 'x', '--tag', 'k=v\\', '--print'],
        'a tag value cannot end with a backslash',
      ],
      [
        ['--name', '#n', '--event', 'x', '--print'],
        'a measurement cannot start with "#" (the line would be a comment)',
      ],
    ];
    for (const [args, reason] of cases) {
      const r = await client(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.ok(r.stderr.startsWith(`cc-event-client: ${reason}\n\nUsage:`), r.stderr);
    }
  });
});

describe('cc-event-client tags given twice', () => {
  const EV = ['--name', 'm', '--event', 'x', '--time', '5', '--print'];

  it('exits 2 naming the tag and both values when they differ', async () => {
    const cases: [string[], string][] = [
      [
        ['--tag', 'cluster=viaTag', '--cluster', 'tc'],
        'tag "cluster" is given twice, as "viaTag" and as "tc"',
      ],
      [
        ['--hostname', 'b', '--tag', 'hostname=a'],
        'tag "hostname" is given twice, as "a" and as "b"',
      ],
      [['--tag', 'rack=r1', '--tag', 'rack=r2'], 'tag "rack" is given twice, as "r1" and as "r2"'],
      [['--cluster', 'a', '--cluster', 'b'], 'tag "cluster" is given twice, as "a" and as "b"'],
      [
        ['--hostname', 'n1', '--hostname', 'n2'],
        'tag "hostname" is given twice, as "n1" and as "n2"',
      ],
    ];
    for (const [tags, reason] of cases) {
      const r = await client([...EV, ...tags]);
      assert.equal(r.code, 2, tags.join(' '));
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.startsWith(`cc-event-client: ${reason}\n\nUsage:`), r.stderr);
    }
  });

  it('takes the same value twice', async () => {
    const tags = ['--tag', 'cluster=c1', '--cluster', 'c1', '--cluster', 'c1'];
    tags.push('--tag', 'rack=r1', '--tag', 'rack=r1');
    const r = await client([...EV, ...tags]);
    assert.deepEqual(r, { code: 0, stdout: 'm,cluster=c1,rack=r1 event="x" 5\n', stderr: '' });
  });
});

describe('cc-event-client --help and unknown options', () => {
  it('prints the usage with exit 0, and exits 2 for an unknown option', async () => {
    const help = await client(['--help']);
    assert.equal(help.code, 0);
    assert.ok(help.stdout.startsWith('Usage: cc-event-client [options]\n'));
    assert.ok(
      help.stdout.endsWith(
        '\nExit codes:\n' +
          '  0  sent, and every entry accepted (--print: printed)\n' +
          '  1  not sent (server away, file unreadable), or entries refused; with --send-file\n' +
          '     over NATS, entries malformed here (the store will refuse them) count as refused\n' +
          '  2  usage error: a command line that cannot work, such as a missing or empty value,\n' +
          '     or a tag given two different values\n',
      ),
      help.stdout,
    );
    const bogus = await client(['--bogus']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /^cc-event-client: Unknown option '--bogus'/);
  });
});

describe('cc-event-client over HTTP', () => {
  it('sends one event that reads back as the same line', async () => {
    const args = [
      '--name',
      'myevent',
      '--cluster',
      'httpone',
      '--hostname',
      'login01',
      '--event',
      'via http',
    ];
    const r = await client([...args, '--time', '1735732805000000000', '--http', writeUrl]);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    const res = await fetch(`${apiBase}/api/v1/events?cluster=httpone&format=lp`);
    assert.equal(
      await res.text(),
      'myevent,cluster=httpone,hostname=login01 event="via http" 1735732805000000000\n',
    );
  });

  it('sends a file in chunks and lists the refused entries by their line in the file', async () => {
    const file = join(samplesDir, 'malformed.lp');
    const { messages, errors } = decode(readSample('malformed.lp'));
    const r = await client([
      '--send-file',
      file,
      '--http',
      writeUrl,
      '--cluster',
      'fileclust',
      '--chunk-size',
      '300',
    ]);
    assert.equal(r.code, 1);
    const entries = messages.length + errors.length;
    const lines = r.stdout.split('\n');
    assert.match(
      lines[0]!,
      new RegExp(
        `^sent ${entries} entries \\(${readSample('malformed.lp').length} bytes\\) in \\d+ requests to ${writeUrl}$`,
      ),
    );
    assert.deepEqual(lines.slice(1, 3), [
      `accepted: ${messages.length} (stored ${messages.length}, duplicates 0, skipped 0)`,
      `rejected: ${errors.length}`,
    ]);
    assert.deepEqual(
      lines.slice(3, -1),
      errors.map((e) => `  line ${e.line}:${e.column}: syntax: ${e.reason}`),
    );
    const expected = expectedFrom(readSample('malformed.lp'), 'fileclust').records;
    const stored = [];
    for (const kind of ['events', 'logs']) {
      const res = await fetch(`${apiBase}/api/v1/${kind}?cluster=testcluster&limit=1000`);
      stored.push(...((await res.json()) as { items: unknown[] }).items);
    }
    assert.equal(stored.length, expected.length);
  });
});

describe('cc-event-client over NATS', { skip: skipNats }, () => {
  it('publishes one log as one line', async () => {
    const subject = uniqueName('cces.client');
    const got = collect(subject);
    await nc!.flush();
    const r = await client([
      '--name',
      'ccb',
      '--cluster',
      'c1',
      '--log',
      'hello',
      '--time',
      '7',
      '--nats',
      NATS_URL,
      '--subject',
      subject,
    ]);
    assert.deepEqual(r, { code: 0, stdout: '', stderr: '' });
    await waitFor(() => got.length === 1, 'the message');
    assert.equal(got[0]!.string(), 'ccb,cluster=c1 log="hello" 7\n');
  });

  it('exits 1 for a file with malformed entries, as over HTTP, and lists them', async () => {
    const subject = uniqueName('cces.clientbad');
    const got = collect(subject);
    await nc!.flush();
    const data = readSample('malformed.lp');
    const { messages, errors } = decode(data);
    const file = join(samplesDir, 'malformed.lp');
    const r = await client(['--send-file', file, '--nats', NATS_URL, '--subject', subject]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stdout,
      `published ${messages.length + errors.length} entries (${data.length} bytes) ` +
        `in 1 messages to ${NATS_URL} subject ${subject}\n` +
        'the store decodes them on arrival; entries it refuses go to its rejected store\n' +
        `malformed here (the store will refuse them): ${errors.length}\n` +
        errors.map((e) => `  line ${e.line}:${e.column}: ${e.reason}\n`).join(''),
    );
    await waitFor(() => got.length === 1, 'the message');
    assert.deepEqual(Buffer.from(got[0]!.data), data);
  });

  it('publishes a file in chunks that put together give the file back', async () => {
    const subject = uniqueName('cces.clientfile');
    const got = collect(subject);
    await nc!.flush();
    const data = readSample('job-events.lp');
    const r = await client([
      '--send-file',
      join(samplesDir, 'job-events.lp'),
      '--nats',
      '127.0.0.1:4222',
      '--subject',
      subject,
      '--chunk-size',
      '1024',
    ]);
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => got.reduce((n, m) => n + m.data.length, 0) === data.length, 'every byte');
    assert.deepEqual(Buffer.concat(got.map((m) => m.data)), data);
    assert.ok(got.length > 2);
    for (const m of got) assert.deepEqual(decode(Buffer.from(m.data)).errors, []);
    assert.equal(
      r.stdout,
      `published 9 entries (${data.length} bytes) in ${got.length} messages to nats://127.0.0.1:4222 subject ${subject}\n` +
        'the store decodes them on arrival; entries it refuses go to its rejected store\n',
    );
  });
});
