/**
 * What a condition sees of a message or a record. One input object is reused for every
 * evaluation (evaluation is synchronous), and values that cost something to build (the
 * RFC 3339 time, converted fields) are built only when an expression reads them.
 */
import { UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import {
  classifyMessage,
  Uint,
  type FieldValue,
  type Message,
  type MessageKind,
} from '../message.ts';
import type { EventRecord } from '../record.ts';
import { formatRfc3339 } from '../time.ts';

/**
 * The variables of a `process_messages` condition: `name`, `tags`, `fields`, `timestamp`
 * (seconds as a double), `time` (RFC 3339 with up to 9 fractional digits), `messagetype`;
 * the original's spellings `tag`, `field` and `msgtype` too.
 */
export class MessageInput {
  #msg!: Message;
  #fields?: Record<string, unknown>;
  #time?: string;
  #kind?: MessageKind;

  /** Points the input at `msg`. */
  set(msg: Message): this {
    this.#msg = msg;
    this.#fields = undefined;
    this.#time = undefined;
    this.#kind = undefined;
    return this;
  }

  /** Call after changing tags: the message type depends on the `method` tag. */
  tagsChanged(): void {
    this.#kind = undefined;
  }

  get name(): string {
    return this.#msg.name;
  }

  get tags(): Record<string, string> {
    return this.#msg.tags;
  }

  get tag(): Record<string, string> {
    return this.#msg.tags;
  }

  get fields(): Record<string, unknown> {
    return (this.#fields ??= toCelFields(this.#msg.fields));
  }

  get field(): Record<string, unknown> {
    return this.fields;
  }

  get timestamp(): number {
    return Number(this.#msg.time) / 1e9;
  }

  get time(): string {
    return (this.#time ??= formatRfc3339(this.#msg.time));
  }

  get messagetype(): MessageKind {
    return (this.#kind ??= classifyMessage(this.#msg));
  }

  get msgtype(): MessageKind {
    return this.messagetype;
  }
}

/**
 * The variables of a sink match condition: those of {@link MessageInput} (`fields` holds the
 * payload under `event` or `log` beside the extra fields; `tags` lacks `cluster`), plus
 * `cluster`, `kind` and `payload`.
 */
export class RecordInput {
  #rec!: EventRecord;
  #fields?: Record<string, unknown>;
  #time?: string;

  /** Points the input at `rec`. */
  set(rec: EventRecord): this {
    this.#rec = rec;
    this.#fields = undefined;
    this.#time = undefined;
    return this;
  }

  get name(): string {
    return this.#rec.name;
  }

  get cluster(): string {
    return this.#rec.cluster;
  }

  get kind(): string {
    return this.#rec.kind;
  }

  get messagetype(): string {
    return this.#rec.kind;
  }

  get msgtype(): string {
    return this.#rec.kind;
  }

  get payload(): string {
    return this.#rec.payload;
  }

  get tags(): Record<string, string> {
    return this.#rec.tags;
  }

  get tag(): Record<string, string> {
    return this.#rec.tags;
  }

  get fields(): Record<string, unknown> {
    if (this.#fields) return this.#fields;
    const extra = this.#rec.extra;
    const out = extra ? toCelFields(extra, true) : (Object.create(null) as Record<string, unknown>);
    out[this.#rec.kind] = this.#rec.payload;
    return (this.#fields = out);
  }

  get field(): Record<string, unknown> {
    return this.fields;
  }

  get timestamp(): number {
    return Number(this.#rec.time) / 1e9;
  }

  get time(): string {
    return (this.#time ??= formatRfc3339(this.#rec.time));
  }
}

/**
 * Field values as CEL takes them: floats stay doubles, signed integers (bigint) are CEL
 * `int` and compare exactly with integer literals, unsigned ones become CEL `uint`. The
 * object is returned as it is when nothing needs converting and `copy` is false.
 */
function toCelFields(fields: Record<string, FieldValue>, copy = false): Record<string, unknown> {
  let out = copy ? nullProtoCopy(fields) : undefined;
  for (const k in fields) {
    const v = fields[k];
    if (!(v instanceof Uint)) continue;
    out ??= nullProtoCopy(fields);
    out[k] = new UnsignedInt(v.value);
  }
  return out ?? fields;
}

/** A copy without a prototype, so a field named `__proto__` stays an ordinary key. */
function nullProtoCopy(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, fields);
}
