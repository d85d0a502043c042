/**
 * makeDirs, the public entry's folder helper, and the example storage that uses it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { makeDirs } from '../../core/make-dirs.ts';
import jsonlPlugin from '../../plugins/examples/jsonl-storage/index.ts';

const root = mkdtempSync(join(tmpdir(), 'cces-make-dirs-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('makeDirs', () => {
  it('creates missing parents and leaves an existing folder as it is', () => {
    const dir = join(root, 'a', 'b', 'c');
    makeDirs(dir);
    assert.equal(statSync(dir).isDirectory(), true);
    makeDirs(dir);
    makeDirs(root);
    assert.equal(statSync(dir).isDirectory(), true);
  });

  it("throws mkdir's error for a file in the way, below a file, and under /proc", () => {
    const file = join(root, 'file.txt');
    writeFileSync(file, 'x');
    assert.throws(() => makeDirs(file), { code: 'EEXIST' });
    assert.throws(() => makeDirs(join(file, 'sub')), { code: 'ENOTDIR' });
    // Node's recursive mkdir never returns here.
    assert.throws(() => makeDirs('/proc/nonexistent/data'), {
      code: 'ENOENT',
      message: "ENOENT: no such file or directory, mkdir '/proc/nonexistent'",
    });
  });

  it('lets the example storage refuse a folder it cannot create instead of hanging', async () => {
    const logger = pino({ level: 'silent' });
    const storage = await jsonlPlugin.create(
      { path: '/proc/nonexistent/data' },
      { name: 'jsonl', logger, configDir: root },
    );
    await assert.rejects(storage.open(), {
      code: 'CCES_ERR_STORAGE_OPEN',
      message: 'cannot open journal /proc/nonexistent/data/journal.jsonl',
    });
  });
});
