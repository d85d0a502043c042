/**
 * `npm run conformance -- <plugin> <config.json> [--kind <kind>] [--driver <module>]`: runs
 * the conformance kit against a plugin, named by built-in type, path or package name, with
 * the plugin config in a JSON file. Prints the test report; exits non-zero on any failure.
 */
import { parseArgs } from 'node:util';
import type { PluginKind } from '../core/contracts/plugin.ts';
import { conformance } from '../test/conformance/kit.ts';

const USAGE =
  'usage: npm run conformance -- <plugin: built-in type, path or package> <config.json> ' +
  '[--kind storage|receiver|sink|api] [--driver <module>]\n';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { kind: { type: 'string' }, driver: { type: 'string' }, help: { type: 'boolean' } },
});
const [spec, configFile] = positionals;
if (values.help || spec === undefined || configFile === undefined || positionals.length > 2) {
  process.stderr.write(USAGE);
  process.exit(values.help ? 0 : 2);
}

try {
  const target = await conformance(spec, configFile, {
    kind: values.kind as PluginKind | undefined,
    driver: values.driver,
  });
  const { definition, resolved } = target.plugin;
  process.stderr.write(`conformance: ${definition.kind} "${definition.type}" from ${resolved}\n`);
} catch (err) {
  const code = (err as { code?: unknown }).code;
  process.stderr.write(
    `conformance: ${code ? `${String(code)}: ` : ''}${(err as Error).message}\n`,
  );
  process.exit(1);
}
