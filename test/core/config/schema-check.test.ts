import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Type, { type TSchema } from 'typebox';
import { checkConfig } from '../../../core/config/schema-check.ts';

const F = '/etc/cces/receivers.json';
const where = { file: F, key: '/nats1' };

const Schema = Type.Object({
  port: Type.Integer({ minimum: 0, maximum: 65535 }),
  address: Type.Optional(Type.String({ default: '127.0.0.1' })),
  mode: Type.Optional(Type.Union([Type.Literal('core'), Type.Literal('jetstream')])),
  ack_wait: Type.Optional(
    Type.String({ pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$' }),
  ),
  tls: Type.Optional(Type.Object({ ca_file: Type.String({ minLength: 1 }) })),
  subscriptions: Type.Optional(Type.Array(Type.Object({ subject: Type.String() }))),
  labels: Type.Optional(Type.Record(Type.String(), Type.Object({ value: Type.String() }))),
  extra: Type.Optional(Type.Object({}, { additionalProperties: true })),
});

function fails(
  schema: TSchema,
  value: unknown,
  code: string,
  message: string,
  hostKeys?: string[],
) {
  assert.throws(
    () => checkConfig(schema, value, where, hostKeys),
    (err: Error & { code?: string; details?: unknown }) => {
      assert.equal(err.code, code);
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('checkConfig', () => {
  it('returns a copy with schema defaults filled in', () => {
    const input = { port: 4222 };
    assert.deepEqual(checkConfig(Schema, input, where), { port: 4222, address: '127.0.0.1' });
    assert.deepEqual(input, { port: 4222 });
  });

  it('treats object schemas without additionalProperties as closed', () => {
    fails(
      Schema,
      { port: 1, prot: 2 },
      'CCES_ERR_CONFIG_UNKNOWN_KEY',
      `unknown config key in ${F} at /nats1/prot: expected one of the keys "type", "process_messages", "port", "address", "mode", "ack_wait", "tls", "subscriptions", "labels", "extra", found "prot"; did you mean "port"? Rename or remove the key`,
      ['type', 'process_messages'],
    );
  });

  it('finds unknown keys in nested objects, arrays and records', () => {
    fails(
      Schema,
      { port: 1, tls: { ca_file: 'ca.pem', ca: 'x' } },
      'CCES_ERR_CONFIG_UNKNOWN_KEY',
      `unknown config key in ${F} at /nats1/tls/ca: expected one of the keys "ca_file", found "ca"; remove the key`,
    );
    fails(
      Schema,
      { port: 1, subscriptions: [{ subject: 'a' }, { subjekt: 'b' }] },
      'CCES_ERR_CONFIG_UNKNOWN_KEY',
      `unknown config key in ${F} at /nats1/subscriptions/1/subjekt: expected one of the keys "subject", found "subjekt"; did you mean "subject"? Rename or remove the key`,
    );
    fails(
      Schema,
      { port: 1, labels: { a: { value: 'x', valeu: 'y' } } },
      'CCES_ERR_CONFIG_UNKNOWN_KEY',
      `unknown config key in ${F} at /nats1/labels/a/valeu: expected one of the keys "value", found "valeu"; did you mean "value"? Rename or remove the key`,
    );
  });

  it('leaves objects declared open alone', () => {
    const out = checkConfig(Schema, { port: 1, extra: { anything: [1] } }, where);
    assert.deepEqual(out, { port: 1, address: '127.0.0.1', extra: { anything: [1] } });
  });

  it('names the expected and found value of a wrong type or range', () => {
    fails(
      Schema,
      { port: 'x' },
      'CCES_ERR_CONFIG_INVALID',
      `invalid config value in ${F} at /nats1/port: expected an integer from 0 to 65535, found "x"; correct the value`,
    );
    fails(
      Schema,
      { port: 70000 },
      'CCES_ERR_CONFIG_INVALID',
      `invalid config value in ${F} at /nats1/port: expected an integer from 0 to 65535, found 70000; correct the value`,
    );
  });

  it('describes unions of literals as a list of choices', () => {
    fails(
      Schema,
      { port: 1, mode: 'stream' },
      'CCES_ERR_CONFIG_INVALID',
      `invalid config value in ${F} at /nats1/mode: expected one of "core", "jetstream", found "stream"; correct the value, or remove the key to use the default`,
    );
  });

  it('describes a duration pattern in words', () => {
    fails(
      Schema,
      { port: 1, ack_wait: '30 seconds' },
      'CCES_ERR_CONFIG_INVALID',
      `invalid config value in ${F} at /nats1/ack_wait: expected a Go-style duration such as "300ms", "10s", "1h30m" or "48h", found "30 seconds"; correct the value, or remove the key to use the default`,
    );
  });

  it('reports a missing required key with what it should hold', () => {
    fails(
      Schema,
      {},
      'CCES_ERR_CONFIG_INVALID',
      `missing config key in ${F} at /nats1/port: expected an integer from 0 to 65535, found nothing; add the key "port"`,
    );
    fails(
      Schema,
      { port: 1, tls: {} },
      'CCES_ERR_CONFIG_INVALID',
      `missing config key in ${F} at /nats1/tls/ca_file: expected a non-empty string, found nothing; add the key "ca_file"`,
    );
  });

  it('reports a wrong top-level value', () => {
    fails(
      Schema,
      [1, 2],
      'CCES_ERR_CONFIG_INVALID',
      `invalid config value in ${F} at /nats1: expected an object with the keys port, address, mode, ack_wait, tls, subscriptions, ..., found an array ([1,2]); correct the value`,
    );
  });
});
