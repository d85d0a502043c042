import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { defaultSamplesDir, repoRoot, resolveSamplesDir } from './samples.ts';

describe('resolveSamplesDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cces-samples-'));
  writeFileSync(join(dir, 'one.lp'), 'x,cluster=c event="y" 1\n');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to ../shared/samples beside the repo', () => {
    assert.equal(defaultSamplesDir, resolve(repoRoot, '../shared/samples'));
    assert.equal(resolveSamplesDir({}), defaultSamplesDir);
  });

  it('takes the folder from CCES_SAMPLES_DIR', () => {
    assert.equal(resolveSamplesDir({ CCES_SAMPLES_DIR: dir }), dir);
  });

  it('names the missing folder, the variable and the default', () => {
    const missing = join(dir, 'nope');
    assert.throws(() => resolveSamplesDir({ CCES_SAMPLES_DIR: missing }), {
      message:
        `samples folder ${missing} does not exist (CCES_SAMPLES_DIR="${missing}"); set ` +
        `CCES_SAMPLES_DIR to the folder of the .lp samples or place them at ${defaultSamplesDir}`,
    });
  });
});
