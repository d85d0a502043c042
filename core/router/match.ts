/**
 * Match rules: which records a sink gets besides storage.
 */
import Type, { type Static } from 'typebox';
import type { EventRecord } from '../record.ts';
import { compileCondition } from '../rules/condition.ts';
import { RecordInput } from '../rules/inputs.ts';

/**
 * Schema of a sink's `match` object. Every given criterion must hold; a list matches any of
 * its values; `tags` needs each listed tag to equal its value (`cluster` compares the
 * record's cluster). `if` is a CEL condition over `name`, `cluster`, `kind`, `tags`,
 * `fields`, `payload`, `timestamp` and `time`. An empty object matches every record.
 */
export const MatchRuleSchema = Type.Object(
  {
    kinds: Type.Optional(Type.Array(Type.Union([Type.Literal('event'), Type.Literal('log')]))),
    names: Type.Optional(Type.Array(Type.String())),
    tags: Type.Optional(Type.Record(Type.String(), Type.String())),
    if: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

/** A sink's `match` object. */
export type MatchRule = Static<typeof MatchRuleSchema>;

/** A compiled match rule. Throws when its `if` condition fails for this record. */
export type RecordMatcher = (rec: EventRecord) => boolean;

/**
 * Compiles a match rule; `rule` names it in errors (`sinks.json: <name>.match.if`). Throws
 * `CCES_ERR_RULE_INVALID` when the condition does not compile.
 */
export function compileMatch(match: MatchRule, rule: string): RecordMatcher {
  const kinds = match.kinds?.length ? new Set<string>(match.kinds) : undefined;
  const names = match.names?.length ? new Set(match.names) : undefined;
  const tags =
    match.tags && Object.keys(match.tags).length ? Object.entries(match.tags) : undefined;
  const test = match.if === undefined ? undefined : compileCondition('record', match.if, rule);
  const input = test ? new RecordInput() : undefined;

  return (rec) => {
    if (kinds && !kinds.has(rec.kind)) return false;
    if (names && !names.has(rec.name)) return false;
    if (tags) {
      for (const [k, v] of tags) {
        const actual = k === 'cluster' ? rec.cluster : rec.tags[k];
        if (actual !== v) return false;
      }
    }
    return test ? test(input!.set(rec)) : true;
  };
}
