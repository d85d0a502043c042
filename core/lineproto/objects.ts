/**
 * The objects the decoder builds for each entry, made the way V8 handles best. Both choices
 * here are invisible to callers: the objects have the prototypes the contract names.
 */
import type { FieldValue, Message } from '../message.ts';

/**
 * A plain object without prototype, for tags and fields. Object.create(null) gives the same,
 * but V8 keeps such objects in slow dictionary mode, which would cost more than all the rest
 * of decoding an entry.
 */
export function nullObject<T>(): Record<string, T> {
  return Object.setPrototypeOf({}, null) as Record<string, T>;
}

interface MessageRecordConstructor {
  new (
    name: string,
    tags: Record<string, string>,
    fields: Record<string, FieldValue>,
    time: bigint,
    line: number,
  ): Message;
}

/**
 * Builds a decoded {@link Message}: a plain object (its prototype is Object.prototype, as a
 * literal's), but made by a constructor. V8 tracks object literals by allocation site: once
 * one large input keeps many messages alive, it decides the site's objects live long and
 * allocates every later message straight in the old generation, which cut the decode rate
 * of all following inputs by a third in the benchmark. Constructed objects are not tracked.
 */
export const MessageRecord = function (
  this: Message,
  name: string,
  tags: Record<string, string>,
  fields: Record<string, FieldValue>,
  time: bigint,
  line: number,
) {
  this.name = name;
  this.tags = tags;
  this.fields = fields;
  this.time = time;
  this.line = line;
} as unknown as MessageRecordConstructor;
MessageRecord.prototype = Object.prototype;
