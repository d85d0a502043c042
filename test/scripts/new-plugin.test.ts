/**
 * The scaffold: `new-plugin` writes a plugin folder whose module the real loader accepts and
 * whose instance works; the folder imports the SDK by package name, as a third-party
 * plugin does (what `npm install` there links, cc-event-store and tsx, is simulated by
 * node_modules links).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLogger } from '../../core/logger.ts';
import { loadPlugin } from '../../core/loader.ts';
import { BUILTINS } from '../../plugins/builtins.ts';
import { nextSteps, scaffoldPlugin } from '../../scripts/new-plugin.ts';
import { repoRoot } from '../helpers/samples.ts';
import { rec, T0 } from '../storage/records.ts';

const root = mkdtempSync(join(tmpdir(), 'cces-scaffold-'));
mkdirSync(join(root, 'node_modules'));
symlinkSync(repoRoot, join(root, 'node_modules', 'cc-event-store'), 'dir');
symlinkSync(join(repoRoot, 'node_modules/tsx'), join(root, 'node_modules', 'tsx'), 'dir');
after(() => rmSync(root, { recursive: true, force: true }));
const logger = createLogger({ level: 'silent' });
const where = { file: join(root, 'storage.json'), key: '/backend/type' };

describe('new-plugin', () => {
  it('scaffolds a storage plugin that the loader loads and that stores records', async () => {
    const { dir, files } = scaffoldPlugin('storage', 'site-store', { cwd: root, dir: 'site' });
    assert.equal(dir, join(root, 'site'));
    assert.deepEqual(files, [
      'index.ts',
      'data-file.ts',
      'conformance.json',
      'conformance.test.ts',
      'README.md',
      'package.json',
    ]);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const store = `file:${relative(dir, repoRoot)}`;
    assert.equal(resolve(dir, store.slice('file:'.length)), resolve(repoRoot));
    assert.deepEqual(pkg, {
      name: 'site-store',
      version: '0.1.0',
      private: true,
      type: 'module',
      main: 'index.ts',
      scripts: { test: 'node --import tsx --test conformance.test.ts' },
      peerDependencies: { 'cc-event-store': '>=0.1.0' },
      devDependencies: { 'cc-event-store': store, tsx: storeTsxRange() },
      allowScripts: { esbuild: true },
    });
    const index = readFileSync(join(dir, 'index.ts'), 'utf8');
    assert.match(index, /from 'cc-event-store';/);
    assert.match(
      readFileSync(join(dir, 'conformance.test.ts'), 'utf8'),
      /cc-event-store\/conformance/,
    );

    const plugin = await loadPlugin('storage', './site/index.ts', where, BUILTINS);
    assert.equal(plugin.resolved, join(dir, 'index.ts'));
    assert.deepEqual(
      [plugin.definition.kind, plugin.definition.type, plugin.definition.contract],
      ['storage', 'site-store', '^1.0.0'],
    );
    const storage = await plugin.definition.create(
      { path: 'data' },
      { name: 's', logger, configDir: root },
    );
    await storage.open();
    const r = rec('event', 'job', { cluster: 'c', label: 'a' }, '{"jobId":1}', T0);
    assert.deepEqual(await storage.write([r, r]), [{ status: 'stored' }, { status: 'duplicate' }]);
    const page = await storage.query({ kind: 'event', order: 'asc', limit: 10 });
    assert.deepEqual(
      page.records.map((x) => [x.name, x.cluster, x.payload, x.time, x.jobId]),
      [['job', 'c', '{"jobId":1}', T0, '1']],
    );
    const closing = storage.close();
    assert.equal(storage.close(), closing);
    await closing;

    const reopened = await plugin.definition.create(
      { path: 'data' },
      { name: 's', logger, configDir: root },
    );
    await reopened.open();
    const again = await reopened.query({ kind: 'event', order: 'asc', limit: 10 });
    assert.deepEqual(
      again.records.map((x) => [x.id, x.name, x.payload, x.time]),
      [[1n, 'job', '{"jobId":1}', T0]],
    );
    assert.equal(readFileSync(join(root, 'data/data.jsonl'), 'utf8').split('\n').length, 2);
    await reopened.close();
  });

  it('scaffolds a storage plugin that passes every case of its own conformance test', () => {
    const { dir } = scaffoldPlugin('storage', 'kit-store', { cwd: root, dir: 'kit-store' });
    const env = { ...process.env };
    // Set by the test runner running this file: the inner run would report to it, not to us.
    delete env.NODE_TEST_CONTEXT;
    const args = ['--import', 'tsx', '--test', '--test-reporter=tap', 'conformance.test.ts'];
    const run = spawnSync(process.execPath, args, { cwd: dir, env, encoding: 'utf8' });

    const count = (name: string) =>
      Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(run.stdout)?.[1]);
    assert.deepEqual(run.stdout.match(/^ *not ok .*$/gm), null);
    assert.deepEqual([run.status, count('fail'), count('pass')], [0, 0, count('tests')]);
    assert.match(run.stdout, /^ {4}ok \d+ - keeps everything across a close and reopen$/m);
  });

  it('prints the commands that test the new plugin', () => {
    const outside = join(root, 'site');
    assert.equal(nextSteps(outside, true), `test it: cd ${outside} && npm install && npm test\n`);
    assert.equal(
      nextSteps(join(repoRoot, 'plugins/site-store'), false),
      `test it, in ${resolve(repoRoot)}: ` +
        'node --import tsx --test plugins/site-store/conformance.test.ts\n',
    );
  });

  it('scaffolds a receiver and a sink of the right kinds', async () => {
    scaffoldPlugin('receiver', 'site-beat', { cwd: root });
    scaffoldPlugin('sink', 'site-file', { cwd: root });
    const receiver = await loadPlugin('receiver', './plugins/site-beat', where, BUILTINS);
    const sink = await loadPlugin('sink', './plugins/site-file/index.ts', where, BUILTINS);
    assert.deepEqual([receiver.definition.type, sink.definition.type], ['site-beat', 'site-file']);
    const config = JSON.parse(
      readFileSync(join(root, 'plugins/site-beat/conformance.json'), 'utf8'),
    );
    assert.deepEqual(config, { cluster: 'demo', interval: '50ms' });
  });

  it('refuses an unknown kind, a bad name and a folder in use, by code', () => {
    const code = { code: 'CCES_ERR_SCAFFOLD_INVALID' };
    assert.throws(() => scaffoldPlugin('api', 'x', { cwd: root }), code);
    assert.throws(() => scaffoldPlugin('sink', 'Site_File', { cwd: root }), code);
    mkdirSync(join(root, 'used'));
    writeFileSync(join(root, 'used', 'keep.txt'), 'mine');
    assert.throws(() => scaffoldPlugin('sink', 'used', { cwd: root, dir: 'used' }), code);
    assert.equal(readFileSync(join(root, 'used', 'keep.txt'), 'utf8'), 'mine');
  });
});

/** The tsx range of the store's own package.json, which the scaffold copies. */
function storeTsxRange(): string {
  return JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).dependencies.tsx;
}
