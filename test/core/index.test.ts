/**
 * The public entry, imported by the package name as a plugin author does (Node resolves a
 * package's own name through its `exports`): every documented member is there and works.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Type } from 'typebox';
import * as sdk from 'cc-event-store';
import type { EventRecord, Message, Receiver, Sink, Storage } from 'cc-event-store';
import * as kit from 'cc-event-store/conformance';
import { CONTRACT_VERSION as coreVersion } from '../../core/contracts/plugin.ts';

describe('public entry cc-event-store', () => {
  it('exports exactly the documented runtime members', () => {
    assert.deepEqual(Object.keys(sdk).sort(), [
      'CONTRACT_VERSION',
      'CcesError',
      'ErrorCodes',
      'PRECISIONS',
      'Type',
      'Uint',
      'asciiLower',
      'buildRecord',
      'classifyMessage',
      'compareTimeId',
      'createError',
      'decode',
      'definePlugin',
      'encode',
      'extraToJson',
      'formatRfc3339',
      'hasCode',
      'loglevelOf',
      'makeDirs',
      'matchesQuery',
      'nowNanos',
      'parseDuration',
      'parseDurationMs',
      'parseRfc3339',
      'pluginLogger',
      'queryRecords',
      'recordKey',
      'redactUrl',
      'toNanos',
    ]);
  });

  it('carries the contract version the loader checks', () => {
    assert.equal(sdk.CONTRACT_VERSION, '1.2.0');
    assert.equal(sdk.CONTRACT_VERSION, coreVersion);
  });

  it('declares a plugin with definePlugin and returns it unchanged', () => {
    const def = {
      kind: 'sink' as const,
      type: 'null',
      contract: '^1.0.0',
      configSchema: Type.Object({ url: Type.String() }),
      create: (): Sink => ({ write: async () => {}, flush: async () => {}, close: async () => {} }),
    };
    assert.equal(sdk.definePlugin(def), def);
  });

  it('creates catalogued errors that callers recognise by code', () => {
    const cause = new Error('disk full');
    const err = sdk.createError('CCES_ERR_STORAGE_WRITE', 'commit failed', { batch: 3 }, cause);
    assert.equal(err.code, 'CCES_ERR_STORAGE_WRITE');
    assert.deepEqual(err.details, { batch: 3 });
    assert.equal(err.cause, cause);
    assert.equal(sdk.hasCode({ code: 'CCES_ERR_STORAGE_WRITE' }, 'CCES_ERR_STORAGE_WRITE'), true);
    assert.equal(sdk.ErrorCodes.CCES_ERR_PLUGIN_CONTRACT_VERSION.length > 0, true);
  });

  it('decodes and encodes line protocol into records with exact ns times', () => {
    const line = 'job,cluster=c1,hostname=n1 event="start",n=3i 1735732800123456789';
    const { messages, errors } = sdk.decode(line);
    assert.deepEqual(errors, []);
    const msg: Message = messages[0]!;
    assert.equal(sdk.classifyMessage(msg), 'event');
    assert.equal(sdk.encode(msg), line);
    const built = sdk.buildRecord(msg, 'event', 5n);
    assert.equal(built.ok, true);
    const rec = (built as { record: EventRecord }).record;
    assert.deepEqual([rec.cluster, rec.payload, rec.time], ['c1', 'start', 1735732800123456789n]);
    assert.equal(sdk.formatRfc3339(rec.time), '2025-01-01T12:00:00.123456789Z');
    assert.equal(sdk.parseRfc3339('2025-01-01T12:00:00.123456789Z'), rec.time);
    assert.equal(sdk.parseDuration('1h30m'), 5_400_000_000_000n);
    assert.equal(sdk.toNanos(1735732800n, 'auto'), 1_735_732_800_000_000_000n);
  });

  it('answers a storage query over records in memory', () => {
    const { messages } = sdk.decode('a,cluster=c event="x" 1\nb,cluster=c event="Y" 2\n', {
      precision: 'ns',
    });
    const records = messages.map((m, i) => {
      const built = sdk.buildRecord(m, 'event', 0n) as { record: EventRecord };
      return { ...built.record, id: BigInt(i + 1) };
    });
    const page = sdk.queryRecords(records, { kind: 'event', order: 'desc', limit: 1, text: 'y' });
    assert.deepEqual(
      page.records.map((r) => r.name),
      ['b'],
    );
    assert.equal(page.next, undefined);
    const first = sdk.queryRecords(records, { kind: 'event', order: 'asc', limit: 1 });
    assert.deepEqual(first.next, { time: 1n, id: 1n });
  });

  it('exposes the contracts as types and the kit as cc-event-store/conformance', () => {
    const types: [Receiver?, Storage?] = [];
    assert.equal(types.length, 0);
    assert.equal(typeof kit.conformance, 'function');
    assert.equal(typeof kit.storageSuite, 'function');
    assert.equal(typeof kit.loadTarget, 'function');
  });
});
