/**
 * How stored events and logs are written out: JSON items, NDJSON, CSV and line protocol.
 * JSON is built by hand: it is the hot path of every query, and integers of extra fields
 * must keep all their digits.
 */
import { Type } from 'typebox';
import { encode } from '../../../core/lineproto/index.ts';
import type { FieldValue, Message } from '../../../core/message.ts';
import { extraToJson, type StoredRecord } from '../../../core/record.ts';
import { formatRfc3339 } from '../../../core/time.ts';

/** One event or log as the API answers it. */
export const RecordItemSchema = Type.Object({
  name: Type.String(),
  cluster: Type.String(),
  tags: Type.Record(Type.String(), Type.String()),
  payload: Type.String(),
  extra: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Boolean(), Type.String()])),
  time: Type.String({ description: 'event time, ns since the epoch' }),
  timestamp: Type.Number({
    description: 'event time, seconds since the epoch (may be fractional)',
  }),
  rfc3339: Type.String(),
  received_at: Type.String({ description: 'receive time, ns since the epoch' }),
});

/** The header line of CSV answers. */
export const CSV_HEADER = 'time,timestamp,rfc3339,received_at,cluster,name,tags,payload,extra\r\n';

/** Seconds since the epoch as a JSON number (fractional when the time has a fraction). */
export function secondsOf(ns: bigint): number {
  return Number(ns / 1_000_000_000n) + Number(ns % 1_000_000_000n) / 1e9;
}

/** The JSON text of one item (see {@link RecordItemSchema}). */
export function itemJson(r: StoredRecord): string {
  return (
    `{"name":${JSON.stringify(r.name)},"cluster":${JSON.stringify(r.cluster)},` +
    `"tags":${tagsJson(r.tags)},"payload":${JSON.stringify(r.payload)},` +
    `"extra":${r.extra ? extraToJson(r.extra) : '{}'},"time":"${r.time}",` +
    `"timestamp":${secondsOf(r.time)},"rfc3339":"${formatRfc3339(r.time)}",` +
    `"received_at":"${r.receivedAt}"}`
  );
}

/** One CSV row (RFC 4180), tags and extra fields as JSON objects. */
export function csvRow(r: StoredRecord): string {
  const cells = [
    String(r.time),
    String(secondsOf(r.time)),
    formatRfc3339(r.time),
    String(r.receivedAt),
    csvCell(r.cluster),
    csvCell(r.name),
    csvCell(tagsJson(r.tags)),
    csvCell(r.payload),
    csvCell(r.extra ? extraToJson(r.extra) : '{}'),
  ];
  return `${cells.join(',')}\r\n`;
}

/** One line of line protocol, with the cluster as a tag, ns precision. */
export function lpLine(r: StoredRecord): string {
  const tags: Record<string, string> = { ...r.tags, cluster: r.cluster };
  const fields: Record<string, FieldValue> = { [r.kind]: r.payload };
  if (r.extra) for (const k of Object.keys(r.extra)) fields[k] = r.extra[k]!;
  const msg: Message = { name: r.name, tags, fields, time: r.time };
  return `${encode(msg, 'ns')}\n`;
}

/** Tags as a JSON object with sorted keys. */
export function tagsJson(tags: Record<string, string>): string {
  const keys = Object.keys(tags).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += `${i === 0 ? '' : ','}${JSON.stringify(k)}:${JSON.stringify(tags[k])}`;
  }
  return `${out}}`;
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
