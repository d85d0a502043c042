/**
 * Conditions of `process_messages` rules and sink match rules: CEL expressions, compiled once
 * with @marcbachmann/cel-js and evaluated against one message or record at a time. Strings
 * may use single quotes as in the original's configs; a tag key that is no identifier is
 * read with an index (`tags['type-id'] == '0'`); integers are CEL `int` (`fields.code == 17`).
 */
import { Environment } from '@marcbachmann/cel-js';
import { createError } from '../errors.ts';

/** A compiled condition. Throws when the expression fails for this input (a missing key). */
export type Condition = (input: object) => boolean;

/** Which input a condition reads: a decoded message (rules) or a built record (routing). */
export type ConditionInput = 'message' | 'record';

const MESSAGE_VARIABLES: Record<string, string> = {
  name: 'string',
  tags: 'map<string, string>',
  tag: 'map<string, string>',
  fields: 'map<string, dyn>',
  field: 'map<string, dyn>',
  timestamp: 'double',
  time: 'string',
  messagetype: 'string',
  msgtype: 'string',
};

const RECORD_VARIABLES: Record<string, string> = {
  ...MESSAGE_VARIABLES,
  kind: 'string',
  cluster: 'string',
  payload: 'string',
};

const environments = new Map<ConditionInput, Environment>();

/** The environment of one input shape, created on first use (creating one is costly). */
function environment(input: ConditionInput): Environment {
  let env = environments.get(input);
  if (env) return env;
  env = new Environment();
  const vars = input === 'message' ? MESSAGE_VARIABLES : RECORD_VARIABLES;
  for (const [name, type] of Object.entries(vars)) env.registerVariable(name, type);
  environments.set(input, env);
  return env;
}

const always: Condition = () => true;

/**
 * Compiles a condition. `*` (the original metric router's "every message") is accepted as
 * `true`. Throws `CCES_ERR_RULE_INVALID` naming `rule` and the expression when the text does
 * not parse, uses an unknown variable or function, or cannot yield a boolean.
 */
export function compileCondition(
  input: ConditionInput,
  expression: string,
  rule: string,
): Condition {
  if (expression.trim() === '*') return always;
  const env = environment(input);
  let evaluate: ReturnType<Environment['parse']>;
  try {
    evaluate = env.parse(expression);
  } catch (err) {
    throw invalid(rule, expression, firstLine(err), err);
  }
  const checked = evaluate.check();
  if (!checked.valid) throw invalid(rule, expression, firstLine(checked.error), checked.error);
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    throw invalid(rule, expression, `it yields ${checked.type}, not bool`);
  }

  return (activation) => {
    const v: unknown = evaluate(activation);
    if (typeof v !== 'boolean') throw new TypeError(`condition yielded ${typeof v}, not bool`);
    return v;
  };
}

function invalid(rule: string, expression: string, reason: string, cause?: unknown) {
  return createError(
    'CCES_ERR_RULE_INVALID',
    `rule ${rule} has a condition that does not compile: ${reason} (expression: ${expression})`,
    { rule, expression, reason },
    cause,
  );
}

/** The first line of an error message; cel-js adds a source excerpt below it. */
function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const nl = text.indexOf('\n');
  return nl < 0 ? text : text.slice(0, nl);
}
