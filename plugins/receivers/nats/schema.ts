/**
 * Config schema of the NATS receiver: ClusterCockpit's NATS receiver keys (`address`, `port`,
 * `subject`, `user`, `password`, `nkey_file`) plus credentials, TLS, several subscriptions
 * and JetStream.
 */
import Type, { type Static } from 'typebox';
import { natsConnectionProperties } from '../../shared/nats/connection.ts';
import { isValidSubject } from './subscriptions.ts';

const Precision = Type.Union([
  Type.Literal('s'),
  Type.Literal('ms'),
  Type.Literal('us'),
  Type.Literal('ns'),
  Type.Literal('auto'),
]);

const Duration = Type.String({ pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$' });

/** A subject to read, checked when the config is read; the description is the rule. */
const Subject = Type.Refine(
  Type.String({
    minLength: 1,
    description:
      'a NATS subject: tokens separated by dots, none empty, no whitespace, ' +
      '* and > only as whole tokens, > only as the last',
  }),
  isValidSubject,
);

/** One subscription. */
export const SubscriptionSchema = Type.Object(
  {
    subject: Subject,
    cluster: Type.Optional(Type.String({ minLength: 1 })),
    precision: Type.Optional(Precision),
    cluster_token: Type.Optional(Type.Integer({ minimum: 0 })),
    queue: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

/** The `create` block: stream settings for creating it from config. */
export const CreateSchema = Type.Object(
  {
    subjects: Type.Optional(Type.Array(Subject, { minItems: 1 })),
    max_age: Type.Optional(Duration),
    max_bytes: Type.Optional(Type.Integer({ minimum: -1 })),
    max_msgs: Type.Optional(Type.Integer({ minimum: -1 })),
    storage: Type.Optional(Type.Union([Type.Literal('file'), Type.Literal('memory')])),
    retention: Type.Optional(
      Type.Union([Type.Literal('limits'), Type.Literal('workqueue'), Type.Literal('interest')]),
    ),
    replicas: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    duplicate_window: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

/** The NATS receiver's config. */
export const NatsReceiverSchema = Type.Object(
  {
    ...natsConnectionProperties,
    /** `core` (plain subscriptions, default) or `jetstream` (durable pull consumer). */
    mode: Type.Optional(Type.Union([Type.Literal('core'), Type.Literal('jetstream')])),
    /** One subject; the same as one entry of `subscriptions`. */
    subject: Type.Optional(Subject),
    subscriptions: Type.Optional(Type.Array(SubscriptionSchema, { minItems: 1 })),
    /** Default cluster and precision of every subscription. */
    cluster: Type.Optional(Type.String({ minLength: 1 })),
    precision: Type.Optional(Precision),
    /** Ingest calls at once (default 8). */
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    /**
     * Messages waiting together are joined into one ingest call, at most this many (default
     * 1000; 1 hands every message alone). Only messages that decode cleanly are joined.
     */
    coalesce: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    /** Core mode: messages waiting at most; more are dropped as slow consumer (default 65536). */
    max_pending: Type.Optional(Type.Integer({ minimum: 1 })),
    /**
     * Bytes waiting at most (default 64 MiB). Core mode drops what does not fit (slow
     * consumer); JetStream hands it back for a redelivery a second later.
     */
    max_pending_bytes: Type.Optional(Type.Integer({ minimum: 1024 })),
    /** JetStream: stream name. */
    stream: Type.Optional(Type.String({ minLength: 1 })),
    /** JetStream: durable consumer name, shared by every store process of a deployment. */
    durable: Type.Optional(Type.String({ minLength: 1 })),
    /** JetStream: create or update the stream and consumer from this config. */
    create: Type.Optional(CreateSchema),
    /** JetStream: messages the client buffers per pull (default 512). */
    batch: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    /** JetStream: unacked messages across all store processes (default 4096). */
    max_ack_pending: Type.Optional(Type.Integer({ minimum: 1 })),
    /** JetStream: redelivery after this long without ack (default "30s"). */
    ack_wait: Type.Optional(Duration),
    /** JetStream: redelivery delay after a storage failure (default "5s"). */
    nak_delay: Type.Optional(Duration),
    /** JetStream: deliveries of one message at most; -1 (default) is unlimited. */
    max_deliver: Type.Optional(Type.Integer({ minimum: -1 })),
  },
  { additionalProperties: false },
);

/** A validated NATS receiver config. */
export type NatsReceiverConfig = Static<typeof NatsReceiverSchema>;
