/**
 * The `process_messages` rules of ClusterCockpit's message processor, applied per receiver
 * before messages are classified: drop, rename, add and delete tags, each optionally under a
 * CEL condition (see core/rules/condition.ts for the language and core/rules/inputs.ts for
 * the variables).
 */
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import { createError } from './errors.ts';
import type { Message, MessageKind } from './message.ts';
import { compileCondition, type Condition } from './rules/condition.ts';
import { MessageInput } from './rules/inputs.ts';

/** Message types `drop_by_message_type` accepts. */
const DroppableType = Type.Union([
  Type.Literal('metric'),
  Type.Literal('event'),
  Type.Literal('log'),
  Type.Literal('control'),
  Type.Literal('query'),
]);

const Expression = Type.String({ minLength: 1, description: 'CEL condition; `*` or `true` = all' });

/** Schema of a receiver's `process_messages` object (closed: unknown keys are errors). */
export const ProcessMessagesSchema = Type.Object(
  {
    drop_messages: Type.Optional(Type.Array(Type.String(), { description: 'names to drop' })),
    drop_messages_if: Type.Optional(Type.Array(Expression)),
    rename_messages: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
    rename_messages_if: Type.Optional(Type.Record(Type.String(), Type.String({ minLength: 1 }))),
    add_tags_if: Type.Optional(
      Type.Array(
        Type.Object(
          {
            if: Expression,
            key: Type.String({ minLength: 1 }),
            value: Type.String({ minLength: 1 }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    delete_tags_if: Type.Optional(
      Type.Array(
        Type.Object(
          // `value` is accepted because the original's configs carry it ("*"); it is unused.
          {
            if: Expression,
            key: Type.String({ minLength: 1 }),
            value: Type.Optional(Type.String()),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    drop_by_message_type: Type.Optional(Type.Array(DroppableType)),
  },
  { additionalProperties: false },
);

/** A `process_messages` object. */
export type ProcessMessagesConfig = Static<typeof ProcessMessagesSchema>;

/** Runtime failures of conditions since the last drain; the last one as an example. */
export interface RuleErrors {
  count: number;
  rule: string;
  expression: string;
  message: string;
}

/** Compiled rules of one receiver. */
export interface MessageRules {
  /**
   * Applies every rule to `msg`, changing it in place. Returns it, or undefined when a rule
   * drops it. A condition that fails at run time (a missing tag, a type mismatch) counts as
   * false and is recorded for {@link MessageRules.drainErrors}.
   */
  apply(msg: Message): Message | undefined;
  /** Returns and clears the count of condition failures; undefined when there were none. */
  drainErrors(): RuleErrors | undefined;
}

interface ConditionRule {
  rule: string;
  expression: string;
  test: Condition;
}

type TagRule = ConditionRule & { key: string; value: string };
type RenameRule = ConditionRule & { to: string };

/**
 * Compiles a `process_messages` object. Stages run in the original's default order: drop by
 * name, drop by type, drop by condition, add tags, delete tags, rename by name, rename by
 * condition (in config order; a later condition sees the earlier new name). Throws
 * `CCES_ERR_CONFIG_INVALID` for a malformed object and `CCES_ERR_RULE_INVALID` for a condition
 * that does not compile.
 */
export function compileRules(cfg: ProcessMessagesConfig): MessageRules {
  if (!Value.Check(ProcessMessagesSchema, cfg)) {
    const first = Value.Errors(ProcessMessagesSchema, cfg)[0];
    throw createError(
      'CCES_ERR_CONFIG_INVALID',
      `process_messages is invalid at ${first?.instancePath || '/'}: ${first?.message}`,
      { path: first?.instancePath, reason: first?.message },
    );
  }
  return new CompiledRules(cfg);
}

class CompiledRules implements MessageRules {
  #dropNames?: Set<string>;
  #dropTypes?: Set<MessageKind>;
  #dropIf: ConditionRule[];
  #addTags: TagRule[];
  #deleteTags: TagRule[];
  #rename?: Map<string, string>;
  #renameIf: RenameRule[];
  #input = new MessageInput();
  #errors = 0;
  #lastError?: Omit<RuleErrors, 'count'>;

  constructor(cfg: ProcessMessagesConfig) {
    if (cfg.drop_messages?.length) this.#dropNames = new Set(cfg.drop_messages);
    if (cfg.drop_by_message_type?.length) this.#dropTypes = new Set(cfg.drop_by_message_type);
    this.#dropIf = (cfg.drop_messages_if ?? []).map((e, i) =>
      condition(`drop_messages_if[${i}]`, e),
    );
    this.#addTags = (cfg.add_tags_if ?? []).map((r, i) => ({
      ...condition(`add_tags_if[${i}]`, r.if),
      key: r.key,
      value: r.value,
    }));
    this.#deleteTags = (cfg.delete_tags_if ?? []).map((r, i) => ({
      ...condition(`delete_tags_if[${i}]`, r.if),
      key: r.key,
      value: '',
    }));
    const renames = Object.entries(cfg.rename_messages ?? {});
    if (renames.length) this.#rename = new Map(renames);
    this.#renameIf = Object.entries(cfg.rename_messages_if ?? {}).map(([e, to], i) => ({
      ...condition(`rename_messages_if[${i}]`, e),
      to,
    }));
  }

  apply(msg: Message): Message | undefined {
    if (this.#dropNames?.has(msg.name)) return undefined;
    const input = this.#input.set(msg);
    if (this.#dropTypes?.has(input.messagetype)) return undefined;
    for (const r of this.#dropIf) if (this.#test(r, input)) return undefined;

    for (const r of this.#addTags) {
      if (!this.#test(r, input)) continue;
      msg.tags[r.key] = r.value;
      input.tagsChanged();
    }
    for (const r of this.#deleteTags) {
      if (!Object.hasOwn(msg.tags, r.key) || !this.#test(r, input)) continue;
      delete msg.tags[r.key];
      input.tagsChanged();
    }

    const to = this.#rename?.get(msg.name);
    if (to !== undefined) msg.name = to;
    for (const r of this.#renameIf) if (this.#test(r, input)) msg.name = r.to;
    return msg;
  }

  drainErrors(): RuleErrors | undefined {
    if (this.#errors === 0 || !this.#lastError) return undefined;
    const out = { count: this.#errors, ...this.#lastError };
    this.#errors = 0;
    this.#lastError = undefined;
    return out;
  }

  #test(r: ConditionRule, input: MessageInput): boolean {
    try {
      return r.test(input);
    } catch (err) {
      this.#errors++;
      const message = err instanceof Error ? err.message.split('\n', 1)[0]! : String(err);
      this.#lastError = { rule: r.rule, expression: r.expression, message };
      return false;
    }
  }
}

function condition(rule: string, expression: string): ConditionRule {
  return { rule, expression, test: compileCondition('message', expression, rule) };
}
