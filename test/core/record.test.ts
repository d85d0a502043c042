import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildRecord, extraToJson, recordKey } from '../../core/record.ts';
import { Uint, classifyMessage, type FieldValue, type Message } from '../../core/message.ts';

function msg(tags: Record<string, string>, fields: Record<string, FieldValue>, name = 'job'): Message {
  return { name, tags, fields, time: 1735732800000000000n };
}

describe('classifyMessage', () => {
  const cases: Array<[Record<string, string>, Record<string, FieldValue>, string]> = [
    [{}, { event: 'x' }, 'event'],
    [{}, { log: 'x' }, 'log'],
    [{}, { value: 1.5 }, 'metric'],
    [{}, { value: 3n }, 'metric'],
    [{}, { value: 1, event: 'both' }, 'event'],
    [{ method: 'GET' }, { control: 'x' }, 'control'],
    [{ method: 'PUT' }, { control: '250' }, 'control'],
    [{}, { control: 'x' }, 'other'],
    [{}, { query: 'SELECT 1' }, 'query'],
    [{}, { event: 1n }, 'other'],
    [{}, { log: 1n }, 'other'],
  ];
  for (const [tags, fields, kind] of cases) {
    test(`${JSON.stringify(fields, (_, v) => (typeof v === 'bigint' ? `${v}i` : v))} ${JSON.stringify(tags)} is ${kind}`, () => {
      assert.equal(classifyMessage(msg(tags, fields)), kind);
    });
  }
});

describe('buildRecord', () => {
  test('the cluster tag wins over the JSON cluster and the default', () => {
    const r = buildRecord(msg({ cluster: 'a' }, { event: '{"cluster":"b"}' }), 'event', 1n, 'c');
    assert.ok(r.ok);
    assert.equal(r.record.cluster, 'a');
    assert.deepEqual({ ...r.record.tags }, {});
  });

  test('the JSON cluster wins over the default', () => {
    const r = buildRecord(msg({}, { event: '{"cluster":"b","jobId":4711}' }), 'event', 1n, 'c');
    assert.ok(r.ok);
    assert.equal(r.record.cluster, 'b');
    assert.equal(r.record.jobId, '4711');
  });

  test('the default applies when neither tag nor JSON names a cluster', () => {
    const r = buildRecord(msg({ hostname: 'n1' }, { log: 'plain' }), 'log', 7n, 'c');
    assert.ok(r.ok);
    assert.equal(r.record.cluster, 'c');
    assert.equal(r.record.receivedAt, 7n);
    assert.equal(r.record.jobId, undefined);
  });

  test('no cluster anywhere is refused with reason no_cluster', () => {
    const r = buildRecord(msg({}, { event: 'not json {' }), 'event', 1n);
    assert.deepEqual(r, {
      ok: false,
      reason: 'no_cluster',
      detail: 'no cluster tag, JSON cluster or default',
    });
  });

  test('extra fields are kept, the payload field is not among them', () => {
    const r = buildRecord(
      msg({ cluster: 'a' }, { event: 'x', severity: 'high', code: 17n, big: new Uint(5n) }),
      'event',
      1n,
    );
    assert.ok(r.ok);
    assert.equal(extraToJson(r.record.extra!), '{"big":5,"code":17,"severity":"high"}');
  });

  test('the key ignores tag order and receive time but not payload or time', () => {
    const a = buildRecord(msg({ cluster: 'a', x: '1', y: '2' }, { event: 'p' }), 'event', 1n);
    const b = buildRecord(msg({ y: '2', cluster: 'a', x: '1' }, { event: 'p' }), 'event', 99n);
    const c = buildRecord(msg({ cluster: 'a', x: '1', y: '2' }, { event: 'q' }), 'event', 1n);
    assert.ok(a.ok && b.ok && c.ok);
    assert.equal(a.record.key, b.record.key);
    assert.notEqual(a.record.key, c.record.key);
    assert.notEqual(recordKey({ ...a.record, time: a.record.time + 1n }), a.record.key);
  });
});
