import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readCentralConfig } from '../../../core/config/central.ts';
import { ConfigDir } from '../../helpers/config-files.ts';

const dir = new ConfigDir({
  'sub/receivers.json': { r1: { type: 'http' } },
  'sub/storage.json': { backend: { type: 'sqlite' } },
  'api.json': { port: 8098 },
});
after(() => dir.remove());
const D = dir.path;

function fails(name: string, content: unknown, code: string, message: string): void {
  dir.write({ [name]: content });
  assert.throws(
    () => readCentralConfig(dir.file(name)),
    (err: Error & { code?: string }) => {
      assert.equal(err.code, code);
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('readCentralConfig', () => {
  it('reads component files named relative to the central file', () => {
    dir.write({
      'config.json': {
        receivers: 'sub/receivers.json',
        storage: 'sub/storage.json',
        api: 'api.json',
      },
    });
    const c = readCentralConfig(dir.file('config.json'));
    assert.equal(c.file, `${D}/config.json`);
    assert.deepEqual(c.receivers, {
      file: `${D}/sub/receivers.json`,
      dir: `${D}/sub`,
      key: '',
      value: { r1: { type: 'http' } },
    });
    assert.deepEqual(c.storage.value, { backend: { type: 'sqlite' } });
    assert.equal(c.storage.dir, `${D}/sub`);
    assert.deepEqual(c.api, { file: `${D}/api.json`, dir: D, key: '', value: { port: 8098 } });
    assert.equal(c.sinks, undefined);
  });

  it("accepts the original's spellings of the component keys", () => {
    dir.write({
      'orig.json': {
        'receiver-file': 'sub/receivers.json',
        'storage-file': 'sub/storage.json',
        'api-file': 'api.json',
      },
      'orig2.json': { 'receivers-file': 'sub/receivers.json', storage: {}, api: {} },
    });
    const c = readCentralConfig(dir.file('orig.json'));
    assert.deepEqual(c.receivers.value, { r1: { type: 'http' } });
    assert.deepEqual(c.storage.value, { backend: { type: 'sqlite' } });
    assert.deepEqual(c.api.value, { port: 8098 });
    assert.deepEqual(readCentralConfig(dir.file('orig2.json')).receivers.value, {
      r1: { type: 'http' },
    });
  });

  it('takes inline components, keyed inside the central file', () => {
    dir.write({
      'inline.json': { receivers: {}, storage: { backend: { type: 'x' } }, api: {}, sinks: {} },
    });
    const c = readCentralConfig(dir.file('inline.json'));
    const file = `${D}/inline.json`;
    assert.deepEqual(c.storage, {
      file,
      dir: D,
      key: '/storage',
      value: { backend: { type: 'x' } },
    });
    assert.deepEqual(c.sinks, { file, dir: D, key: '/sinks', value: {} });
  });

  it('refuses an unknown key and lists the known ones', () => {
    fails(
      'unknown.json',
      { receivers: {}, storage: {}, api: {}, receiverz: 'r.json' },
      'CCES_ERR_CONFIG_UNKNOWN_KEY',
      `unknown config key in ${D}/unknown.json at /receiverz: expected one of the keys "receivers", "receivers-file", "receiver-file", "storage", "storage-file", "api", "api-file", "sinks", "sinks-file", found "receiverz"; did you mean "receivers"? Rename or remove the key`,
    );
  });

  it('refuses a component named twice', () => {
    fails(
      'twice.json',
      { receivers: {}, 'receivers-file': 'r.json', storage: {}, api: {} },
      'CCES_ERR_CONFIG_INVALID',
      `component named twice in ${D}/twice.json at /receivers-file: expected only one of the keys "receivers", "receivers-file", found both; keep one of them`,
    );
  });

  it('refuses a missing component', () => {
    fails(
      'missing.json',
      { storage: {}, api: {} },
      'CCES_ERR_CONFIG_INVALID',
      `missing config key in ${D}/missing.json at /receivers: expected the receivers config: a file name relative to this file, or an inline object, found nothing; add "receivers": "receivers.json"`,
    );
  });

  it('refuses a component that is neither a file name nor an object', () => {
    fails(
      'number.json',
      { receivers: 5, storage: {}, api: {} },
      'CCES_ERR_CONFIG_INVALID',
      `invalid config value in ${D}/number.json at /receivers: expected the receivers config: a file name relative to this file, or an inline object, found 5; write "receivers": "receivers.json" or an inline object`,
    );
  });

  it('names the file and key that refer to a missing component file', () => {
    fails(
      'nofile.json',
      { receivers: 'sub/missing.json', storage: {}, api: {} },
      'CCES_ERR_CONFIG_NOT_FOUND',
      `config file not readable in ${D}/nofile.json at /receivers (resolved path ${D}/sub/missing.json): expected a JSON config file, found no such file; create the file or correct the path (relative paths resolve against the folder of the file that names them)`,
    );
  });

  it('reports a JSON syntax error with its line and column', () => {
    fails(
      'syntax.json',
      '{\n  "receivers": {},\n  "storage": {},\n}\n',
      'CCES_ERR_CONFIG_PARSE',
      `config file ${D}/syntax.json is not valid JSON at line 4, column 1: expected JSON, found a syntax error (Expected double-quoted property name in JSON at position 38); fix the syntax (JSON allows no comments and no trailing commas)`,
    );
  });

  it('refuses a central file that is not an object', () => {
    fails(
      'array.json',
      [1],
      'CCES_ERR_CONFIG_INVALID',
      `invalid central config in ${D}/array.json at the top level: expected an object naming the receivers, storage and api configs, found an array ([1]); write {"receivers": "receivers.json", "storage": "storage.json", "api": "api.json"}`,
    );
  });

  it('reports a central file that does not exist', () => {
    assert.throws(() => readCentralConfig(`${D}/none.json`), {
      code: 'CCES_ERR_CONFIG_NOT_FOUND',
      message: `config file ${D}/none.json not readable: expected a JSON config file, found no such file; pass an existing file with --config`,
    });
  });
});
