/**
 * The NATS sink's subject template is checked when the config is read: every subject it
 * makes must be one a client may publish to.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadHostConfig } from '../../../core/config/index.ts';
import { BUILTINS } from '../../../plugins/builtins.ts';
import { isValidTemplate } from '../../../plugins/sinks/nats/subject-template.ts';
import { ConfigDir, fixtureBuiltins, minimalFilesWithSinks } from '../../helpers/config-files.ts';

const RULE =
  'a NATS subject to publish to: tokens separated by dots, none empty, no whitespace, ' +
  'no * or >; {cluster} and {name} may stand in for tokens or parts';

let dir: ConfigDir | undefined;
afterEach(() => dir?.remove());

describe('isValidTemplate', () => {
  it('accepts literal subjects with {cluster} and {name} as tokens or parts of them', () => {
    for (const t of ['logs', 'logs.{cluster}.{name}', 'cc-{cluster}.x_{name}', '{name}', 'a.{x}'])
      assert.equal(isValidTemplate(t), true, t);
  });

  it('refuses empty tokens, whitespace and wildcards', () => {
    for (const t of ['logs..{name}', '.logs', 'logs.', 'logs {name}', 'logs.*', 'logs.>', 'a*b'])
      assert.equal(isValidTemplate(t), false, t);
  });
});

describe('nats sink subject in the config', () => {
  it('names the file, the key and the rule for an invalid template', async () => {
    dir = new ConfigDir(
      minimalFilesWithSinks({ out: { type: 'nats', subject: 'logs.{cluster}.>' } }),
    );
    const builtins = { ...fixtureBuiltins, sink: { nats: BUILTINS.sink.nats } };
    await assert.rejects(loadHostConfig(dir.file('config.json'), builtins), {
      code: 'CCES_ERR_CONFIG_INVALID',
      message:
        `invalid config value in ${dir.file('sinks.json')} at /out/subject: ` +
        `expected a non-empty string (${RULE}), found "logs.{cluster}.>"; correct the value`,
    });
  });
});
