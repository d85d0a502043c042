/**
 * Checks a config object against a TypeBox schema and turns the first problem into a
 * catalogued error that names the file, the key, what was expected and what was found.
 *
 * Objects are closed by default: an object schema that declares `properties` and leaves
 * `additionalProperties` unset accepts no other keys (`CCES_ERR_CONFIG_UNKNOWN_KEY`). A schema
 * that wants free-form keys says so with `additionalProperties: true` or a schema.
 */
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { describeSchema, schemaAt } from './describe-schema.ts';
import { childKey, describeValue, listNames, problemError, type ConfigWhere } from './problem.ts';
import type { CcesError } from '../errors.ts';

type Node = Record<string, unknown>;

interface SchemaIssue {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
}

/**
 * Validates `value` (after filling schema defaults into a copy) and returns the copy. Throws
 * `CCES_ERR_CONFIG_UNKNOWN_KEY` or `CCES_ERR_CONFIG_INVALID`. `where.key` is the pointer of
 * `value` inside `where.file`; reported keys extend it. `hostKeys` are top-level keys the host
 * took out before the check; they are listed as known in unknown-key errors.
 */
export function checkConfig<T = unknown>(
  schema: TSchema,
  value: unknown,
  where: ConfigWhere,
  hostKeys: readonly string[] = [],
): T {
  const copy = Value.Default(schema, Value.Clone(value));
  const unknown = findUnknownKey(schema, copy, where.key);
  if (unknown) {
    const top = unknown.key.lastIndexOf('/') === where.key.length;
    const known = top ? [...hostKeys, ...unknown.known] : unknown.known;
    throw unknownKeyError(where.file, unknown.key, unknown.name, known);
  }
  if (Value.Check(schema, copy)) return copy as T;

  const issues = collapseUnions(Value.Errors(schema, copy) as unknown as SchemaIssue[]);
  throw issueError(schema as Node, copy, issues[0]!, where);
}

/** The error for a key the schema does not know, with the known keys and a likely spelling. */
export function unknownKeyError(
  file: string,
  key: string,
  name: string,
  known: readonly string[],
): CcesError {
  const guess = closest(name, known);
  return problemError('CCES_ERR_CONFIG_UNKNOWN_KEY', {
    summary: 'unknown config key',
    where: { file, key },
    expected: `one of the keys ${listNames(known)}`,
    found: JSON.stringify(name),
    fix: guess ? `did you mean "${guess}"? Rename or remove the key` : 'remove the key',
  });
}

/**
 * Finds the first key of `value` that a closed object schema inside `schema` does not list:
 * its JSON pointer (`key` extended), its name and the keys that object knows.
 */
export function findUnknownKey(
  root: TSchema | Node,
  value: unknown,
  key: string,
): { key: string; name: string; known: string[] } | undefined {
  const schema = root as Node;
  if (Array.isArray(value) && isNode(schema.items)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findUnknownKey(schema.items, value[i], childKey(key, i));
      if (hit) return hit;
    }
    return undefined;
  }
  if (!isNode(value) || Array.isArray(value)) return undefined;
  if (Array.isArray(schema.anyOf)) {
    const branch = (schema.anyOf as Node[]).find((b) => Value.Check(b as TSchema, value));
    return branch ? findUnknownKey(branch, value, key) : undefined;
  }

  const props = isNode(schema.properties) ? schema.properties : undefined;
  const patterns = isNode(schema.patternProperties) ? schema.patternProperties : undefined;
  const open = schema.additionalProperties !== undefined && schema.additionalProperties !== false;
  for (const name of Object.keys(value)) {
    const sub = subSchema(props, patterns, name);
    if (sub) {
      const hit = findUnknownKey(sub, value[name], childKey(key, name));
      if (hit) return hit;
    } else if (props && !open) {
      return { key: childKey(key, name), name, known: Object.keys(props) };
    } else if (isNode(schema.additionalProperties)) {
      const hit = findUnknownKey(schema.additionalProperties, value[name], childKey(key, name));
      if (hit) return hit;
    }
  }
  return undefined;
}

function subSchema(props: Node | undefined, patterns: Node | undefined, name: string) {
  if (props && Object.hasOwn(props, name) && isNode(props[name])) return props[name];
  for (const [re, sub] of Object.entries(patterns ?? {})) {
    if (isNode(sub) && new RegExp(re, 'u').test(name)) return sub;
  }
  return undefined;
}

/** Drops the per-branch errors under a failed `anyOf`, keeping the `anyOf` error itself. */
function collapseUnions(issues: SchemaIssue[]): SchemaIssue[] {
  const unions = issues.filter((i) => i.keyword === 'anyOf' || i.keyword === 'oneOf');
  return issues.filter(
    (i) =>
      !unions.some(
        (u) =>
          u !== i &&
          i.schemaPath.startsWith(`${u.schemaPath}/`) &&
          i.instancePath.startsWith(u.instancePath),
      ),
  );
}

function issueError(schema: Node, value: unknown, issue: SchemaIssue, where: ConfigWhere) {
  const base = where.key;
  const node = schemaAt(schema, issue.schemaPath);
  if (issue.keyword === 'required') {
    const missing = (issue.params.requiredProperties as string[])[0]!;
    const props = (node?.properties ?? {}) as Node;
    return problemError('CCES_ERR_CONFIG_INVALID', {
      summary: 'missing config key',
      where: { file: where.file, key: childKey(base + issue.instancePath, missing) },
      expected: describeSchema(props[missing] as Node | undefined),
      found: 'nothing',
      fix: `add the key "${missing}"`,
    });
  }
  if (
    issue.keyword === 'additionalProperties' ||
    issue.schemaPath.endsWith('/additionalProperties')
  ) {
    return extraKeyError(schema, issue, where);
  }

  const found = valueAt(value, issue.instancePath);
  const optional = !isRequired(schema, issue.instancePath);
  return problemError('CCES_ERR_CONFIG_INVALID', {
    summary: 'invalid config value',
    where: { file: where.file, key: base + issue.instancePath },
    expected: describeSchema(node),
    found: describeValue(found),
    fix: optional ? 'correct the value, or remove the key to use the default' : 'correct the value',
  });
}

function extraKeyError(schema: Node, issue: SchemaIssue, where: ConfigWhere) {
  let objectPath = issue.instancePath;
  let objectSchema = issue.schemaPath;
  let name = ((issue.params.additionalProperties as string[] | undefined) ?? [])[0];
  if (name === undefined) {
    const cut = objectPath.lastIndexOf('/');
    name = objectPath
      .slice(cut + 1)
      .replace(/~1/g, '/')
      .replace(/~0/g, '~');
    objectPath = objectPath.slice(0, cut);
    objectSchema = objectSchema.slice(0, -'/additionalProperties'.length);
  }
  const props = (schemaAt(schema, objectSchema)?.properties ?? {}) as Node;
  const key = childKey(where.key + objectPath, name);
  return unknownKeyError(where.file, key, name, Object.keys(props));
}

/**
 * Whether the key at a pointer must stay: listed as required by its parent object schema, or
 * an array item. Only optional keys get "remove the key to use the default" as their fix.
 */
function isRequired(schema: Node, pointer: string): boolean {
  const parts = pointer.split('/').slice(1);
  let node: Node | undefined = schema;
  for (let i = 0; i < parts.length && node; i++) {
    const name = parts[i]!.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node.type === 'array') {
      if (i === parts.length - 1) return true;
      node = isNode(node.items) ? node.items : undefined;
      continue;
    }
    if (i === parts.length - 1) return Array.isArray(node.required) && node.required.includes(name);
    node = subSchema(
      isNode(node.properties) ? node.properties : undefined,
      isNode(node.patternProperties) ? node.patternProperties : undefined,
      name,
    );
  }
  return true;
}

function valueAt(value: unknown, pointer: string): unknown {
  let v = value;
  for (const raw of pointer.split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Node)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return v;
}

/** The known name nearest to a misspelt one, if it is close enough to be a likely typo. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.ceil(name.length / 2));
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null;
}
