/**
 * Plain-words descriptions of JSON schemas ("an integer from 0 to 65535", `one of "a", "b"`),
 * for the "expected ..." part of config errors.
 */

type Node = Record<string, unknown>;

/** Describes what a schema accepts, with its `description` appended when it has one. */
export function describeSchema(node: Node | undefined): string {
  if (!node) return 'a value the schema accepts';
  const text = describeShape(node);
  return typeof node.description === 'string' ? `${text} (${node.description})` : text;
}

/** The sub-schema at a schema path such as `#/properties/port`; undefined if absent. */
export function schemaAt(schema: Node, path: string): Node | undefined {
  let node: unknown = schema;
  for (const raw of path.replace(/^#/, '').split('/').slice(1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Node)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node !== null && typeof node === 'object' ? (node as Node) : undefined;
}

function describeShape(node: Node): string {
  if (node.const !== undefined) return JSON.stringify(node.const);
  if (Array.isArray(node.enum))
    return `one of ${node.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  const union = (node.anyOf ?? node.oneOf) as Node[] | undefined;
  if (Array.isArray(union)) return describeUnion(union);

  const type = node.type;
  if (Array.isArray(type)) return type.map((t) => describeShape({ ...node, type: t })).join(' or ');
  switch (type) {
    case 'integer':
    case 'number':
      return describeNumber(node, type === 'integer' ? 'an integer' : 'a number');
    case 'string':
      return describeString(node);
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    case 'array':
      return node.items && typeof node.items === 'object'
        ? `an array of items that are each ${describeShape(node.items as Node)}`
        : 'an array';
    case 'object':
      return describeObject(node);
    default:
      return 'a value the schema accepts';
  }
}

function describeUnion(branches: Node[]): string {
  if (branches.every((b) => b.const !== undefined)) {
    return `one of ${branches.map((b) => JSON.stringify(b.const)).join(', ')}`;
  }
  return branches.map((b) => describeShape(b)).join(' or ');
}

function describeNumber(node: Node, noun: string): string {
  const min = node.minimum as number | undefined;
  const max = node.maximum as number | undefined;
  const xmin = node.exclusiveMinimum as number | undefined;
  const xmax = node.exclusiveMaximum as number | undefined;
  if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
  const bounds = [
    min === undefined ? '' : `>= ${min}`,
    xmin === undefined ? '' : `> ${xmin}`,
    max === undefined ? '' : `<= ${max}`,
    xmax === undefined ? '' : `< ${xmax}`,
  ].filter(Boolean);
  return bounds.length === 0 ? noun : `${noun} ${bounds.join(' and ')}`;
}

function describeString(node: Node): string {
  if (typeof node.pattern === 'string' && isDurationPattern(node.pattern)) {
    return 'a Go-style duration such as "300ms", "10s", "1h30m" or "48h"';
  }
  const min = node.minLength as number | undefined;
  const max = node.maxLength as number | undefined;
  let text = min === 1 && max === undefined ? 'a non-empty string' : 'a string';
  if (min !== undefined && min !== 1) text += ` of at least ${min} characters`;
  if (max !== undefined)
    text += `${min !== undefined && min !== 1 ? ' and' : ' of'} at most ${max} characters`;
  if (typeof node.pattern === 'string') text += ` matching /${node.pattern}/`;
  if (typeof node.format === 'string') text += ` in ${node.format} format`;
  return text;
}

function describeObject(node: Node): string {
  const props =
    node.properties && typeof node.properties === 'object' ? Object.keys(node.properties) : [];
  if (props.length === 0) return 'an object';
  const shown = props.slice(0, 6).join(', ');
  return `an object with the keys ${shown}${props.length > 6 ? ', ...' : ''}`;
}

/** Whether a string pattern accepts Go-style durations and nothing unit-less but "0". */
function isDurationPattern(pattern: string): boolean {
  try {
    const re = new RegExp(pattern, 'u');
    return ['0', '300ms', '10s', '1h30m', '48h'].every((t) => re.test(t)) && !re.test('10');
  } catch {
    // A pattern JavaScript cannot compile is described as a plain pattern instead.
    return false;
  }
}
