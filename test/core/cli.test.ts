import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigDir, fixturesDir } from '../helpers/config-files.ts';
import { repoRoot } from '../helpers/samples.ts';

const shim = resolve(repoRoot, 'scripts/cc-event-store.mjs');
const dirs: ConfigDir[] = [];
after(() => dirs.forEach((d) => d.remove()));

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** Resolves with the first JSON log line whose `msg` is `msg`. */
  logged(msg: string): Promise<Record<string, unknown>>;
  lines(): Record<string, unknown>[];
}

function run(args: string[], viaShim = true, env: NodeJS.ProcessEnv = {}): Run {
  const argv = viaShim ? [shim, ...args] : ['--import', 'tsx', 'core/cli.ts', ...args];
  const child = spawn(process.execPath, argv, {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
  });
  const r: Run = {
    child,
    stdout: '',
    stderr: '',
    // 'close', not 'exit': it comes after the child's stdout has been read to its end.
    exited: new Promise((res) => child.on('close', (code) => res(code))),
    // Only complete lines: a chunk of output may end in the middle of one.
    lines: () =>
      r.stdout
        .split('\n')
        .slice(0, -1)
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    logged: (msg) =>
      new Promise((res, rej) => {
        const check = () => {
          const hit = r.lines().find((l) => l.msg === msg);
          if (hit) res(hit);
        };
        child.stdout!.on('data', check);
        child.on('close', () => {
          check();
          rej(new Error(`exited before "${msg}": ${r.stdout}${r.stderr}`));
        });
        check();
      }),
  };
  child.stdout!.on('data', (b: Buffer) => (r.stdout += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (r.stderr += b.toString()));
  return r;
}

/** A temp copy of the default config on port 0 with its database in the temp folder. */
function defaultCopy(receivers: unknown = {}, storageKeys: object = {}): ConfigDir {
  const read = (name: string) =>
    JSON.parse(readFileSync(resolve(repoRoot, 'config', name), 'utf8'));
  const storage = read('storage.json');
  storage.backend.database_path = 'data/events.db';
  const d = new ConfigDir({
    'config.json': read('config.json'),
    'receivers.json': receivers,
    'storage.json': { ...storage, ...storageKeys },
    'api.json': { ...read('api.json'), port: 0 },
  });
  dirs.push(d);
  return d;
}

// Each test spawns the real process; they run side by side to keep the file fast.
describe('cc-event-store', { concurrency: true }, () => {
  it('--validate passes the shipped default config and opens nothing', async () => {
    const r = run(['--validate', '--config', 'config/config.json']);
    assert.equal(await r.exited, 0);
    const c = resolve(repoRoot, 'config');
    assert.equal(
      r.stdout,
      `ok: ${c}/config.json\n  storage: sqlite (${c}/storage.json at /backend)\n  api: rest (${c}/api.json), 0 extensions\n  receivers: none\n  sinks: none\n`,
    );

    const d = defaultCopy();
    assert.equal(await run(['--validate', '--config', d.file('config.json')]).exited, 0);
    assert.equal(existsSync(d.file('data')), false);
  });

  it('--validate names the file and key of a broken config and exits 1', async () => {
    const d = defaultCopy({ nats1: { type: 'nats', port: 'four' } });
    const r = run(['--validate', '--config', d.file('config.json')]);
    assert.equal(await r.exited, 1);
    assert.equal(
      r.stderr,
      `CCES_ERR_CONFIG_INVALID: invalid config value in ${d.file('receivers.json')} at /nats1/port: expected an integer from 1 to 65535 or a string matching /^[0-9]+$/, found "four"; correct the value, or remove the key to use the default\n`,
    );
    assert.equal(existsSync(d.file('data')), false);
  });

  it('--validate runs the plugin factories and reports what they refuse', async () => {
    const type = `${fixturesDir}/duration-in-create.ts`;
    const d = defaultCopy({ tail: { type, idle_timeout: '5 minutes' } });
    const r = run(['--validate', '--config', d.file('config.json')]);
    assert.equal(await r.exited, 1);
    assert.equal(
      r.stderr,
      `CCES_ERR_CONFIG_DURATION: invalid duration in ${d.file('receivers.json')} at /tail/idle_timeout: expected a Go-style duration such as "300ms", "10s", "1h30m" or "48h", found "5 minutes"; write numbers with units: ns, us, ms, s, m or h\n`,
    );
  });

  it('starts, creates the data folder, and stops with exit 0 on SIGTERM', async () => {
    const d = defaultCopy();
    const r = run(['--config', d.file('config.json')], false);
    const started = await r.logged('store started');
    assert.equal((started.api as { host: string }).host, '127.0.0.1');
    assert.equal(existsSync(d.file('data/events.db')), true);
    const port = (started.api as { port: number }).port;
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);

    r.child.kill('SIGTERM');
    assert.equal(await r.exited, 0);
    const msgs = r.lines().map((l) => l.msg);
    assert.ok(msgs.indexOf('signal received; stopping') < msgs.indexOf('stopping'));
    assert.ok(msgs.indexOf('stopping') < msgs.indexOf('sqlite storage closed'));
    assert.deepEqual(r.lines().at(-1), { ...r.lines().at(-1), msg: 'stopped', failures: 0 });
  });

  it('forces the exit on a second signal while stopping hangs', async () => {
    const d = defaultCopy({
      slow: { type: `${fixturesDir}/recording-receiver.ts`, hang_stop: true },
    });
    const r = run(['--config', d.file('config.json')]);
    await r.logged('store started');
    r.child.kill('SIGINT');
    await r.logged('stopping');
    r.child.kill('SIGINT');
    assert.equal(await r.exited, 1, r.stdout + r.stderr);
    assert.equal(r.lines().at(-1)!.msg, 'second signal; exiting without a clean stop');
  });

  it('logs a start-up failure once with its code and exits 1', async () => {
    const d = defaultCopy({ bad: { type: `${fixturesDir}/start-throws.ts` } });
    const r = run(['--config', d.file('config.json')]);
    assert.equal(await r.exited, 1);
    const fatal = r.lines().filter((l) => l.level === 60);
    assert.equal(fatal.length, 1);
    assert.equal(fatal[0]!.msg, 'start-up failed');
    assert.equal(fatal[0]!.code, 'CCES_ERR_PLUGIN_START');
    const err = fatal[0]!.err as { message: string; code: string };
    assert.equal(err.code, 'CCES_ERR_PLUGIN_START');
    assert.equal(
      err.message,
      `receiver "bad" failed to start in ${d.file('receivers.json')} at /bad (resolved path ${fixturesDir}/start-throws.ts): expected start() to succeed, found an error: listen EADDRINUSE: address already in use 127.0.0.1:8098; correct the config entry or what it points to (address, port, file, server)` +
        // pino's error serializer appends the message of the cause.
        ': listen EADDRINUSE: address already in use 127.0.0.1:8098',
    );
    assert.equal(r.lines().at(-1)!.msg, 'start-up failed');
  });

  it('prints a start-up config fault as --validate does and logs it without stack', async () => {
    const d = defaultCopy({}, { flush_time: 'soon' });
    const r = run(['--config', d.file('config.json')]);
    assert.equal(await r.exited, 1);
    const message =
      `invalid config value in ${d.file('storage.json')} at /flush_time: expected a Go-style ` +
      `duration such as "300ms", "10s", "1h30m" or "48h", found "soon"; correct the value, ` +
      `or remove the key to use the default`;
    assert.equal(r.stderr, `CCES_ERR_CONFIG_INVALID: ${message}\n`);
    const fatal = r.lines().filter((l) => l.level === 60);
    assert.equal(fatal.length, 1);
    const err = fatal[0]!.err as Record<string, unknown>;
    assert.equal(fatal[0]!.code, 'CCES_ERR_CONFIG_INVALID');
    assert.equal(err.message, message);
    assert.equal('stack' in err, false);
    assert.equal(existsSync(d.file('data')), false);
  });

  it('refuses an unknown LOG_LEVEL with exit 2 and lists the levels', async () => {
    const r = run(['--config', 'config/config.json'], true, { LOG_LEVEL: 'verbose' });
    assert.equal(await r.exited, 2);
    assert.equal(r.stdout, '');
    const levels = 'fatal, error, warn, info, debug, trace, silent';
    const first = `cc-event-store: LOG_LEVEL "verbose" is not a log level; use one of ${levels}\n`;
    assert.ok(r.stderr.startsWith(`${first}\nusage: cc-event-store `), r.stderr);
  });

  it('prints help with exit 0 and refuses unknown options with exit 2', async () => {
    const help = run(['--help']);
    assert.equal(await help.exited, 0);
    assert.match(
      help.stdout,
      /^usage: cc-event-store \[--config <file>\] \[--validate\] \[--help\]\n/,
    );

    const bad = run(['--confg', 'x.json']);
    assert.equal(await bad.exited, 2);
    assert.match(bad.stderr, /^cc-event-store: Unknown option '--confg'/);
  });
});
