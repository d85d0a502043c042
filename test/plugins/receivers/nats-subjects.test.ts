/**
 * Subjects of the NATS receiver are checked when the config is read: a subject the server
 * would refuse stops start-up and `--validate` with the file, the key and the rule.
 */
import { after, afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { loadHostConfig } from '../../../core/config/index.ts';
import { BUILTINS } from '../../../plugins/builtins.ts';
import { isValidSubject } from '../../../plugins/receivers/nats/subscriptions.ts';
import { ConfigDir, fixtureBuiltins, minimalFiles } from '../../helpers/config-files.ts';
import { repoRoot } from '../../helpers/samples.ts';

const RULE =
  'a NATS subject: tokens separated by dots, none empty, no whitespace, ' +
  '* and > only as whole tokens, > only as the last';
const builtins = { ...fixtureBuiltins, receiver: { nats: BUILTINS.receiver.nats } };

let dir: ConfigDir | undefined;
afterEach(() => dir?.remove());

/** Loads a receivers.json holding `r1` and returns the error message ($D = the folder). */
async function failure(r1: Record<string, unknown>): Promise<{ code: string; message: string }> {
  dir = new ConfigDir({ ...minimalFiles(), 'receivers.json': { r1: { type: 'nats', ...r1 } } });
  const err = await loadHostConfig(dir.file('config.json'), builtins).then(
    () => assert.fail('the config was accepted'),
    (e: Error & { code: string }) => e,
  );
  return { code: err.code, message: err.message.replaceAll(dir.path, '$D') };
}

describe('isValidSubject', () => {
  it('accepts dotted tokens and whole-token wildcards, > only last', () => {
    const valid = ['a', 'a.b', 'events.>', '*.logs', '*', '>', 'a.*.c', 'a-b_c.$d', 'ü.ß'];
    for (const s of valid) assert.equal(isValidSubject(s), true, s);
  });

  it('refuses empty tokens, whitespace, partial wildcards and > before the end', () => {
    const invalid = ['', 'a..b', '.a', 'a.', 'a b', 'a\tb', 'a*', 'a.b*.c', 'a>', '>.a', 'a.>.b'];
    for (const s of invalid) assert.equal(isValidSubject(s), false, JSON.stringify(s));
  });
});

describe('nats receiver subjects in the config', () => {
  it('names the file, /r1/subject and the rule for an invalid subject', async () => {
    assert.deepEqual(await failure({ address: '127.0.0.1', port: 4222, subject: 'a..b' }), {
      code: 'CCES_ERR_CONFIG_INVALID',
      message:
        'invalid config value in $D/receivers.json at /r1/subject: ' +
        `expected a non-empty string (${RULE}), found "a..b"; ` +
        'correct the value, or remove the key to use the default',
    });
  });

  it('names the subscription for an invalid subscription subject', async () => {
    const subscriptions = [{ subject: 'events.>' }, { subject: 'logs.>.x', cluster_token: 0 }];
    assert.deepEqual(await failure({ subscriptions }), {
      code: 'CCES_ERR_CONFIG_INVALID',
      message:
        'invalid config value in $D/receivers.json at /r1/subscriptions/1/subject: ' +
        `expected a non-empty string (${RULE}), found "logs.>.x"; correct the value`,
    });
  });

  it('checks the JetStream create.subjects by the same rule', async () => {
    const js = { mode: 'jetstream', stream: 'S', durable: 'd', subject: 'cc.events.>' };
    assert.deepEqual(await failure({ ...js, create: { subjects: ['cc.events.>', 'cc events'] } }), {
      code: 'CCES_ERR_CONFIG_INVALID',
      message:
        'invalid config value in $D/receivers.json at /r1/create/subjects/1: ' +
        `expected a non-empty string (${RULE}), found "cc events"; correct the value`,
    });
  });

  it('still reads the shipped NATS example', async () => {
    const file = resolve(repoRoot, 'config/examples/nats-postgres.json');
    const cfg = await loadHostConfig(file);
    assert.deepEqual(
      cfg.receivers.map((r) => [r.config.subject, r.config.subscriptions]),
      [
        [
          undefined,
          [
            { subject: 'events.>', cluster: 'testcluster' },
            { subject: '*.logs', cluster_token: 0 },
          ],
        ],
        ['cc.events.>', undefined],
      ],
    );
  });
});

describe('cc-event-store --validate with an invalid subject', () => {
  const dirs: ConfigDir[] = [];
  after(() => dirs.forEach((d) => d.remove()));

  it('exits 1 and prints the file, the key and the rule', async () => {
    const d = new ConfigDir({
      ...minimalFiles(),
      'receivers.json': { r1: { type: 'nats', address: '127.0.0.1', port: 4222, subject: 'a..b' } },
      'storage.json': { backend: { type: 'sqlite', database_path: 'events.db' } },
      'api.json': { address: '127.0.0.1', port: 0 },
    });
    dirs.push(d);
    const shim = resolve(repoRoot, 'scripts/cc-event-store.mjs');
    const child = spawn(process.execPath, [shim, '--config', d.file('config.json'), '--validate']);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const code = await new Promise((res) => child.on('close', res));
    assert.deepEqual(
      { code, stdout, stderr },
      {
        code: 1,
        stdout: '',
        stderr:
          `CCES_ERR_CONFIG_INVALID: invalid config value in ${d.file('receivers.json')} ` +
          `at /r1/subject: expected a non-empty string (${RULE}), found "a..b"; ` +
          'correct the value, or remove the key to use the default\n',
      },
    );
  });
});
