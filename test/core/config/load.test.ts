import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { loadHostConfig } from '../../../core/config/index.ts';
import {
  ConfigDir,
  fixtureBuiltins,
  fixturesDir,
  minimalFiles,
} from '../../helpers/config-files.ts';
import { repoRoot } from '../../helpers/samples.ts';

let dir: ConfigDir | undefined;
afterEach(() => dir?.remove());

function load(files: Record<string, unknown>) {
  dir = new ConfigDir({ ...minimalFiles(), ...files });
  return loadHostConfig(dir.file('config.json'), fixtureBuiltins);
}

/** Loads `files` over the minimal set and expects `code` with `message` ($D = the folder). */
async function fails(files: Record<string, unknown>, code: string, message: string) {
  await assert.rejects(load(files), (err: Error & { code?: string }) => {
    assert.equal(err.code, code);
    assert.equal(err.message, message.replaceAll('$D', dir!.path));
    return true;
  });
}

const recording = (extra: Record<string, unknown> = {}) => ({
  'receivers.json': { r1: { type: 'recording', ...extra } },
});

describe('loadHostConfig', () => {
  it('reads the shipped default config with the built-in plugins', async () => {
    const cfg = await loadHostConfig(resolve(repoRoot, 'config/config.json'));
    const configDir = resolve(repoRoot, 'config');
    assert.equal(cfg.file, resolve(configDir, 'config.json'));
    assert.deepEqual(cfg.storage.options, {
      batchSize: 1000,
      flushTimeMs: 1000,
      maxQueue: 100_000,
      retentionNs: 48n * 3600n * 1_000_000_000n,
      retentionIntervalMs: 3_600_000,
      retentionChunk: 5000,
      rejectedMaxCount: 100_000,
      rejectedMaxAgeNs: 168n * 3600n * 1_000_000_000n,
    });
    const backend = cfg.storage.backend;
    assert.equal(backend.plugin.resolved, resolve(repoRoot, 'plugins/storage/sqlite/index.ts'));
    assert.deepEqual(backend.config, { database_path: '../data/events.db' });
    assert.deepEqual(backend.where, { file: resolve(configDir, 'storage.json'), key: '/backend' });
    assert.equal(backend.configDir, configDir);
    assert.equal(cfg.api.slot.plugin.definition.type, 'rest');
    assert.deepEqual(cfg.api.slot.config, {
      address: '127.0.0.1',
      port: 8098,
      jwt_public_key: '',
      enable_swagger_ui: false,
    });
    assert.deepEqual(cfg.api.extensions, []);
    assert.deepEqual(cfg.receivers, []);
    assert.deepEqual(cfg.sinks, []);
  });

  it('reads the NATS receiver and Postgres storage examples', async () => {
    const examples = resolve(repoRoot, 'config/examples');
    const cfg = await loadHostConfig(resolve(examples, 'nats-postgres.json'));
    assert.equal(cfg.storage.backend.plugin.definition.type, 'postgres');
    assert.equal(cfg.storage.options.logRetentionNs, 168n * 3600n * 1_000_000_000n);
    assert.deepEqual(
      cfg.receivers.map((r) => [r.name, r.plugin.definition.type, r.rules !== undefined]),
      [
        ['nats-events', 'nats', true],
        ['nats-jetstream', 'nats', false],
      ],
    );
    assert.equal(cfg.api.slot.where.file, resolve(repoRoot, 'config/api.json'));
  });

  it('takes the host-level keys out before the plugin schema check', async () => {
    const pm = { drop_messages: ['noise'] };
    const cfg = await load({
      'receivers.json': { r1: { type: 'recording', port: 7, process_messages: pm } },
      'config.json': {
        receivers: 'receivers.json',
        storage: 'storage.json',
        api: 'api.json',
        sinks: { s1: { type: 'recording', match: { kinds: ['log'] } }, s2: { type: 'recording' } },
      },
    });
    assert.deepEqual(cfg.receivers[0]!.config, { port: 7 });
    assert.equal(typeof cfg.receivers[0]!.rules?.apply, 'function');
    assert.deepEqual(
      cfg.sinks.map((s) => [s.name, s.config, s.match]),
      [
        ['s1', {}, { kinds: ['log'] }],
        ['s2', {}, {}],
      ],
    );
    assert.deepEqual(cfg.sinks[0]!.where, { file: dir!.file('config.json'), key: '/sinks/s1' });
  });

  it('defaults the API type to rest and loads its extensions', async () => {
    const ext = { path: `${fixturesDir}/extension-hello.ts`, config: { greeting: 'hi' } };
    const cfg = await load({ 'api.json': { port: 1, extensions: [ext] } });
    assert.equal(cfg.api.slot.plugin.spec, 'rest');
    assert.deepEqual(cfg.api.slot.config, { port: 1 });
    assert.equal(cfg.api.extensions.length, 1);
    assert.equal(cfg.api.extensions[0]!.name, 'extension-hello');
    assert.deepEqual(cfg.api.extensions[0]!.config, { greeting: 'hi' });
    assert.equal(typeof cfg.api.extensions[0]!.plugin, 'function');
  });

  it('reports a bad duration in the storage file', async () => {
    await fails(
      { 'storage.json': { retention_time: '2 days', backend: { type: 'memory' } } },
      'CCES_ERR_CONFIG_INVALID',
      'invalid config value in $D/storage.json at /retention_time: expected a Go-style duration such as "300ms", "10s", "1h30m" or "48h", found "2 days"; correct the value, or remove the key to use the default',
    );
  });

  it('reports a storage manager value out of range', async () => {
    await fails(
      { 'storage.json': { batch_size: 0, backend: { type: 'memory' } } },
      'CCES_ERR_CONFIG_INVALID',
      'invalid config value in $D/storage.json at /batch_size: expected an integer >= 1, found 0; correct the value, or remove the key to use the default',
    );
  });

  it("reports an unknown key in the backend with the backend's keys", async () => {
    await fails(
      { 'storage.json': { backend: { type: 'memory', fail_opn: true } } },
      'CCES_ERR_CONFIG_UNKNOWN_KEY',
      'unknown config key in $D/storage.json at /backend/fail_opn: expected one of the keys "type", "fail_open", "flush_every", found "fail_opn"; did you mean "fail_open"? Rename or remove the key',
    );
  });

  it('reports a backend without a type', async () => {
    await fails(
      { 'storage.json': { backend: { database_path: 'x.db' } } },
      'CCES_ERR_CONFIG_INVALID',
      'missing config key in $D/storage.json at /backend/type: expected a non-empty string, found nothing; add the key "type"',
    );
  });

  it("reports a receiver option that fails the plugin's schema", async () => {
    await fails(
      recording({ port: 'x' }),
      'CCES_ERR_CONFIG_INVALID',
      'invalid config value in $D/receivers.json at /r1/port: expected an integer from 0 to 65535, found "x"; correct the value, or remove the key to use the default',
    );
  });

  it('lists the host-level keys among the known ones of a receiver', async () => {
    await fails(
      recording({ prot: 1 }),
      'CCES_ERR_CONFIG_UNKNOWN_KEY',
      'unknown config key in $D/receivers.json at /r1/prot: expected one of the keys "type", "process_messages", "port", "fail_start", "hang_start", "hang_stop", "tags", found "prot"; did you mean "port"? Rename or remove the key',
    );
  });

  it('reports a receiver without a type with the built-in types', async () => {
    await fails(
      { 'receivers.json': { r1: { port: 1 } } },
      'CCES_ERR_CONFIG_INVALID',
      'missing config key in $D/receivers.json at /r1/type: expected a non-empty string (built-in "recording", a path or a package name), found nothing; add the key "type"',
    );
  });

  it('reports a receivers file that is not an object of entries', async () => {
    await fails(
      { 'receivers.json': [] },
      'CCES_ERR_CONFIG_INVALID',
      'invalid receivers config in $D/receivers.json at the top level: expected an object mapping each receiver name to its config, found an array ([]); write {"name": {"type": ...}}, or {} for no receivers',
    );
  });

  it('checks process_messages against its schema', async () => {
    await fails(
      recording({ process_messages: { drop_by_message_type: ['metrics'] } }),
      'CCES_ERR_CONFIG_INVALID',
      'invalid config value in $D/receivers.json at /r1/process_messages/drop_by_message_type/0: expected one of "metric", "event", "log", "control", "query", found "metrics"; correct the value',
    );
  });

  it('reports a process_messages condition that does not compile', async () => {
    const rule = { if: 'name ==', key: 'a', value: 'b' };
    await fails(
      recording({ process_messages: { add_tags_if: [rule] } }),
      'CCES_ERR_RULE_INVALID',
      'condition does not compile in $D/receivers.json at /r1/process_messages/add_tags_if/0/if: expected a CEL condition that compiles, found "name ==" (Unexpected token: EOF); correct the expression',
    );
  });

  it('checks inline sinks and their match rules, keyed in the central file', async () => {
    const central = (match: unknown) => ({
      'config.json': {
        receivers: 'receivers.json',
        storage: 'storage.json',
        api: 'api.json',
        sinks: { s1: { type: 'recording', match } },
      },
    });
    await fails(
      central({ kinds: ['metric'] }),
      'CCES_ERR_CONFIG_INVALID',
      'invalid config value in $D/config.json at /sinks/s1/match/kinds/0: expected one of "event", "log", found "metric"; correct the value',
    );
    dir!.remove();
    await fails(
      central({ if: 'kind ==' }),
      'CCES_ERR_RULE_INVALID',
      'condition does not compile in $D/config.json at /sinks/s1/match/if: expected a CEL condition that compiles, found "kind ==" (Unexpected token: EOF); correct the expression',
    );
  });

  it('reports an unknown key in the API config', async () => {
    await fails(
      { 'api.json': { port: 1, jwt_public_key: '' } },
      'CCES_ERR_CONFIG_UNKNOWN_KEY',
      'unknown config key in $D/api.json at /jwt_public_key: expected one of the keys "type", "extensions", "port", found "jwt_public_key"; remove the key',
    );
  });

  it('reports an extension path that names no file', async () => {
    await fails(
      { 'api.json': { extensions: [{ path: './nope.ts' }] } },
      'CCES_ERR_PLUGIN_NOT_FOUND',
      'plugin module not found in $D/api.json at /extensions/0/path (resolved path $D/nope.ts): expected an API extension module, found no such file; correct the path; a relative path resolves against the folder of this config file',
    );
  });
});
