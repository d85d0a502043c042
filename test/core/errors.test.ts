import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { CcesError, ErrorCodes, createError, hasCode } from '../../core/errors.ts';
import { repoRoot } from '../helpers/samples.ts';

test('every catalogue code is listed in the README with its sentence', () => {
  const readme = readFileSync(resolve(repoRoot, 'README.md'), 'utf8');
  for (const [code, sentence] of Object.entries(ErrorCodes)) {
    // Table cells may be padded (the README is formatted by prettier).
    const escaped = sentence.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const row = new RegExp(`\\| \`${code}\` +\\| ${escaped} +\\|`);
    assert.match(readme, row, `README lacks ${code} with its sentence`);
  }
});

test('codes follow CCES_ERR_<AREA>_<WHAT>', () => {
  for (const code of Object.keys(ErrorCodes)) assert.match(code, /^CCES_ERR_[A-Z]+_[A-Z_]+$/);
});

test('createError keeps code, details and cause; hasCode reads the code of any copy', () => {
  const cause = new Error('disk full');
  const err = createError('CCES_ERR_STORAGE_WRITE', 'commit failed', { batch: 3 }, cause);
  assert.ok(err instanceof CcesError);
  assert.equal(err.code, 'CCES_ERR_STORAGE_WRITE');
  assert.equal(err.message, 'commit failed');
  assert.deepEqual(err.details, { batch: 3 });
  assert.equal(err.cause, cause);
  assert.equal(hasCode({ code: 'CCES_ERR_STORAGE_WRITE' }, 'CCES_ERR_STORAGE_WRITE'), true);
  assert.equal(hasCode(new Error('x'), 'CCES_ERR_STORAGE_WRITE'), false);
  assert.equal(hasCode(null, 'CCES_ERR_STORAGE_WRITE'), false);
});
