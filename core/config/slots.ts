/**
 * One config entry that names a plugin (`{"type": ..., ...options}`): the host-level keys are
 * checked and taken out, the plugin is loaded, and the rest is checked against its schema.
 */
import Type, { type TSchema } from 'typebox';
import type { PluginKind } from '../contracts/plugin.ts';
import { hasCode } from '../errors.ts';
import { loadPlugin } from '../loader.ts';
import type { PluginSlot } from '../plugin-lifecycle.ts';
import type { BuiltinMap } from '../../plugins/builtins.ts';
import type { ComponentSource } from './central.ts';
import { childKey, describeValue, problemError, type ConfigWhere } from './problem.ts';
import { checkConfig } from './schema-check.ts';

/** How to read one plugin entry. */
export interface SlotSpec<K extends PluginKind> {
  kind: K;
  name: string;
  source: ComponentSource;
  /** JSON pointer of the entry inside `source.file`. */
  key: string;
  entry: unknown;
  /** Schemas of the keys the host reads itself (besides `type`); they are not passed on. */
  hostKeys?: Record<string, TSchema>;
  /** Type used when the entry names none (the API's `rest`); absent makes `type` required. */
  defaultType?: string;
}

/** The slot and the host-level values that were taken out of the entry. */
export interface ReadSlot<K extends PluginKind> {
  slot: PluginSlot<K>;
  host: Record<string, unknown>;
}

/** Reads one plugin entry. Throws the config and loader errors with file and key. */
export async function readSlot<K extends PluginKind>(
  spec: SlotSpec<K>,
  builtins: BuiltinMap,
): Promise<ReadSlot<K>> {
  const where: ConfigWhere = { file: spec.source.file, key: spec.key };
  const entry = spec.entry;
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw problemError('CCES_ERR_CONFIG_INVALID', {
      summary: 'invalid config value',
      where,
      expected: `an object with the ${spec.kind} plugin's "type" and its options`,
      found: describeValue(entry),
      fix: `write the ${spec.kind} as {"type": "...", ...}`,
    });
  }

  const values = entry as Record<string, unknown>;
  const { host, hostNames } = readHostKeys(spec, values, builtins);
  const type = (host.type as string | undefined) ?? spec.defaultType!;
  const typeWhere = { file: where.file, key: childKey(spec.key, 'type') };
  const plugin = await loadPlugin(spec.kind, type, typeWhere, builtins);

  const rest = Object.fromEntries(Object.entries(values).filter(([k]) => !hostNames.includes(k)));
  const schema = plugin.definition.configSchema;
  const config = checkConfig<Record<string, unknown>>(schema, rest, where, hostNames);
  const { kind, name } = spec;
  return { slot: { kind, name, plugin, config, where, configDir: spec.source.dir }, host };
}

/** Reads a component that must be an object of entries (receivers, sinks). */
export function entriesOf(source: ComponentSource, what: string): Record<string, unknown> {
  const v = source.value;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  throw problemError('CCES_ERR_CONFIG_INVALID', {
    summary: `invalid ${what} config`,
    where: { file: source.file, key: source.key },
    expected: `an object mapping each ${what.replace(/s$/, '')} name to its config`,
    found: describeValue(v),
    fix: `write {"name": {"type": ...}}, or {} for no ${what}`,
  });
}

/**
 * Adds the file and key to an error a rule compiler raised (`CCES_ERR_RULE_INVALID`, or a
 * config error without a location); other errors pass through unchanged.
 */
export function locateRuleError(err: unknown, where: ConfigWhere): unknown {
  if (!hasCode(err, 'CCES_ERR_RULE_INVALID')) return err;
  const details = (err as { details: { rule?: string; expression?: string; reason?: string } })
    .details;
  return problemError(
    'CCES_ERR_RULE_INVALID',
    {
      summary: 'condition does not compile',
      where: {
        file: where.file,
        key: rulePointer(where.key, details.rule ?? '', details.expression),
      },
      expected: 'a CEL condition that compiles',
      found: `${JSON.stringify(details.expression)} (${details.reason ?? 'compile error'})`,
      fix: 'correct the expression',
    },
    err,
  );
}

/** `add_tags_if[0]` → `<base>/add_tags_if/0/if`, and so on for the other rule lists. */
function rulePointer(base: string, rule: string, expression: string | undefined): string {
  const m = /^(\w+)\[(\d+)\]$/.exec(rule);
  if (!m) return base;
  const [, list, index] = m as unknown as [string, string, string];
  if (list === 'rename_messages_if') return childKey(childKey(base, list), expression ?? index);
  const item = childKey(childKey(base, list), index);
  return list === 'drop_messages_if' ? item : childKey(item, 'if');
}

function typeSchema(spec: SlotSpec<PluginKind>, builtins: BuiltinMap): TSchema {
  const names = Object.keys(builtins[spec.kind]).map((n) => `"${n}"`);
  const description = `built-in ${names.join(', ')}, a path or a package name`;
  return Type.String({ minLength: 1, description });
}

/** Checks the host-level keys of an entry (`type` and the kind's own) against their schemas. */
function readHostKeys(
  spec: SlotSpec<PluginKind>,
  values: Record<string, unknown>,
  builtins: BuiltinMap,
): { host: Record<string, unknown>; hostNames: string[] } {
  const schemas: Record<string, TSchema> = { type: typeSchema(spec, builtins), ...spec.hostKeys };
  const hostNames = Object.keys(schemas);
  const props: Record<string, TSchema> = {};
  for (const [k, s] of Object.entries(schemas)) {
    props[k] = k === 'type' && spec.defaultType === undefined ? s : Type.Optional(s);
  }

  const picked = Object.fromEntries(
    hostNames.filter((k) => k in values).map((k) => [k, values[k]]),
  );
  const where = { file: spec.source.file, key: spec.key };
  const host = checkConfig<Record<string, unknown>>(Type.Object(props), picked, where);
  return { host, hostNames };
}
