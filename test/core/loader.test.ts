import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { pino } from 'pino';
import { loadApiExtension, loadPlugin } from '../../core/loader.ts';
import type { PluginKind } from '../../core/contracts/plugin.ts';
import { createInstance, startWithin, type PluginSlot } from '../../core/plugin-lifecycle.ts';
import { BUILTINS } from '../../plugins/builtins.ts';
import { repoRoot } from '../helpers/samples.ts';

const dir = resolve(repoRoot, 'test/fixtures/plugins');
const file = resolve(dir, 'receivers.json');
const where = { file, key: '/r1/type' };
const at = `in ${file} at /r1/type`;
const silent = pino({ level: 'silent' });

/** Asserts that `p` rejects with `code` and exactly `message`. */
async function rejects(p: Promise<unknown>, code: string, message: string): Promise<void> {
  await assert.rejects(p, (err: Error & { code?: string }) => {
    assert.equal(err.code, code);
    assert.equal(err.message, message);
    return true;
  });
}

async function slotOf(
  spec: string,
  config: Record<string, unknown> = {},
): Promise<PluginSlot<'receiver'>> {
  const plugin = await loadPlugin('receiver', spec, where, BUILTINS);
  const slotWhere = { file, key: '/r1' };
  return { kind: 'receiver', name: 'r1', plugin, config, where: slotWhere, configDir: dir };
}

const ctx = { name: 'r1', logger: silent, configDir: dir };

describe('loadPlugin', () => {
  it('loads a .ts plugin by a path relative to the config file', async () => {
    const p = await loadPlugin('receiver', './recording-receiver.ts', where, BUILTINS);
    assert.equal(p.resolved, resolve(dir, 'recording-receiver.ts'));
    assert.equal(p.definition.type, 'recording');
    assert.equal(p.spec, './recording-receiver.ts');
  });

  it('loads a built-in plugin by its type name', async () => {
    const p = await loadPlugin('storage', 'sqlite', where, BUILTINS);
    assert.equal(p.resolved, resolve(repoRoot, 'plugins/storage/sqlite/index.ts'));
    assert.equal(p.definition.kind, 'storage');
    assert.equal(p.definition.type, 'sqlite');
  });

  it('reports a path that resolves to no file', async () => {
    await rejects(
      loadPlugin('receiver', './nope.ts', where, BUILTINS),
      'CCES_ERR_PLUGIN_NOT_FOUND',
      `plugin module not found ${at} (resolved path ${dir}/nope.ts): expected a receiver plugin module, found no such file; correct the path; a relative path resolves against the folder of this config file`,
    );
  });

  it('reports a package name that is not installed', async () => {
    await rejects(
      loadPlugin('receiver', '@site/missing', where, BUILTINS),
      'CCES_ERR_PLUGIN_NOT_FOUND',
      `plugin module not found ${at} (resolved path package "@site/missing" (searched from ${dir})): expected a receiver plugin module, found no installed package of that name; install "@site/missing" or correct the name`,
    );
  });

  it('reports a module that throws while imported', async () => {
    await rejects(
      loadPlugin('receiver', './import-throws.ts', where, BUILTINS),
      'CCES_ERR_PLUGIN_IMPORT',
      `plugin module failed to import ${at} (resolved path ${dir}/import-throws.ts): expected a receiver plugin module that imports cleanly, found an error: cannot read /etc/site-secret; fix the error in the module or in what it imports`,
    );
  });

  it('reports a module without a default export', async () => {
    await rejects(
      loadPlugin('receiver', './no-default.ts', where, BUILTINS),
      'CCES_ERR_PLUGIN_NO_DEFAULT_EXPORT',
      `plugin module has no default export ${at} (resolved path ${dir}/no-default.ts): expected a default export made with definePlugin({ kind, type, contract, configSchema, create }), found only the named exports "create", "kind"; add a default export to the module`,
    );
  });

  it('reports a default export that lacks members', async () => {
    await rejects(
      loadPlugin('receiver', './bad-shape.ts', where, BUILTINS),
      'CCES_ERR_PLUGIN_BAD_SHAPE',
      `plugin default export has the wrong shape ${at} (resolved path ${dir}/bad-shape.ts): expected an object with kind, type and contract (strings), configSchema (a TypeBox schema) and create (a function), found an object lacking configSchema, create; export the plugin with definePlugin({ kind, type, contract, configSchema, create })`,
    );
  });

  it('resolves a package name and checks what it exports', async () => {
    await rejects(
      loadPlugin('receiver', 'fastify', where, BUILTINS),
      'CCES_ERR_PLUGIN_BAD_SHAPE',
      `plugin default export has the wrong shape ${at} (resolved path ${repoRoot}node_modules/fastify/fastify.js): expected an object with kind, type and contract (strings), configSchema (a TypeBox schema) and create (a function), found a function (fastify); export the plugin with definePlugin({ kind, type, contract, configSchema, create })`,
    );
  });

  it('reports a plugin of another kind', async () => {
    await rejects(
      loadPlugin('receiver', './wrong-kind.ts', where, BUILTINS),
      'CCES_ERR_PLUGIN_WRONG_KIND',
      `plugin is of the wrong kind ${at} (resolved path ${dir}/wrong-kind.ts): expected a receiver plugin, found a sink plugin of type "wrong-kind"; name a receiver plugin here, or move this one to the sink config`,
    );
  });

  it('reports a contract range that excludes this host', async () => {
    await rejects(
      loadPlugin('receiver', './old-contract.ts', where, BUILTINS),
      'CCES_ERR_PLUGIN_CONTRACT_VERSION',
      `plugin contract version not supported ${at} (resolved path ${dir}/old-contract.ts): expected a contract range that includes 1.2.0, found the range "^0.9.0"; use a version of the plugin built for contract 1.x`,
    );
  });

  it('reports an unknown type with the known ones and a likely spelling', async () => {
    await rejects(
      loadPlugin('receiver', 'htttp', where, BUILTINS),
      'CCES_ERR_PLUGIN_UNKNOWN_TYPE',
      `unknown plugin type ${at}: expected a built-in receiver type ("http", "nats"), a path such as "./my-receiver.ts" or a package name, found "htttp"; did you mean "http"? use a built-in type, or give the path of the plugin module`,
    );
  });

  it('says when an unknown type is a built-in of another kind', async () => {
    await rejects(
      loadPlugin('storage' as PluginKind, 'nats', where, BUILTINS),
      'CCES_ERR_PLUGIN_UNKNOWN_TYPE',
      `unknown plugin type ${at}: expected a built-in storage type ("sqlite", "postgres", "duckdb"), a path such as "./my-storage.ts" or a package name, found "nats" ("nats" is a built-in receiver and sink); use a built-in type, or give the path of the plugin module`,
    );
  });
});

describe('createInstance', () => {
  it('reports a factory that throws', async () => {
    await rejects(
      createInstance(await slotOf('./create-throws.ts'), ctx),
      'CCES_ERR_PLUGIN_CREATE',
      `receiver plugin factory failed in ${file} at /r1 (resolved path ${dir}/create-throws.ts): expected create() to return a receiver instance, found an error: license file missing; correct the config entry, or the plugin if the config is right`,
    );
  });

  it('reports an instance that lacks a method of its contract', async () => {
    await rejects(
      createInstance(await slotOf('./bad-instance.ts'), ctx),
      'CCES_ERR_PLUGIN_BAD_SHAPE',
      `receiver instance has the wrong shape in ${file} at /r1 (resolved path ${dir}/bad-instance.ts): expected an object with the methods start, stop, found no stop; make create() return an object that implements the receiver contract`,
    );
  });

  it('adds the file and key to a bad duration the factory found', async () => {
    const slot = await slotOf('./duration-in-create.ts', { idle_timeout: '2 days' });
    await rejects(
      createInstance(slot, ctx),
      'CCES_ERR_CONFIG_DURATION',
      `invalid duration in ${file} at /r1/idle_timeout: expected a Go-style duration such as "300ms", "10s", "1h30m" or "48h", found "2 days"; write numbers with units: ns, us, ms, s, m or h`,
    );
  });
});

describe('startWithin', () => {
  it('reports a start that throws', async () => {
    const slot = await slotOf('./start-throws.ts');
    const receiver = await createInstance(slot, ctx);
    const rctx = { ingest: async () => ({}) as never, logger: silent, count() {} };
    await rejects(
      startWithin(slot, 'start', () => receiver.start(rctx), 1000),
      'CCES_ERR_PLUGIN_START',
      `receiver "r1" failed to start in ${file} at /r1 (resolved path ${dir}/start-throws.ts): expected start() to succeed, found an error: listen EADDRINUSE: address already in use 127.0.0.1:8098; correct the config entry or what it points to (address, port, file, server)`,
    );
  });

  it('reports a start that does not finish in time', async () => {
    const slot = await slotOf('./start-hangs.ts');
    const receiver = await createInstance(slot, ctx);
    const rctx = { ingest: async () => ({}) as never, logger: silent, count() {} };
    const started = Date.now();
    await rejects(
      startWithin(slot, 'start', () => receiver.start(rctx), 50),
      'CCES_ERR_PLUGIN_START_TIMEOUT',
      `receiver "r1" did not start in time in ${file} at /r1 (resolved path ${dir}/start-hangs.ts): expected start() to finish within 50 ms, found it still pending when the time was up; check that what it connects to answers (server address, port, credentials)`,
    );
    assert.ok(Date.now() - started < 1000);
  });
});

describe('loadApiExtension', () => {
  const extWhere = { file: resolve(dir, 'api.json'), key: '/extensions/0/path' };

  it('loads the default export of an extension module', async () => {
    const ext = await loadApiExtension('./extension-hello.ts', extWhere);
    assert.equal(typeof ext.plugin, 'function');
    assert.equal(ext.resolved, resolve(dir, 'extension-hello.ts'));
  });

  it('reports an extension whose default export is not a function', async () => {
    await rejects(
      loadApiExtension('./extension-not-function.ts', extWhere),
      'CCES_ERR_PLUGIN_BAD_SHAPE',
      `API extension has the wrong shape in ${dir}/api.json at /extensions/0/path (resolved path ${dir}/extension-not-function.ts): expected a default export that is a Fastify plugin function (async (app, opts) => {...}), found an object ({"routes":["/site/hello"]}); export the Fastify plugin as the default export, wrapped with fastify-plugin`,
    );
  });
});
