/**
 * Config schema of the NATS sink.
 */
import Type, { type Static } from 'typebox';
import { natsConnectionProperties } from '../../shared/nats/connection.ts';
import { isValidTemplate } from './subject-template.ts';

const Duration = Type.String({ pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$' });

/** The NATS sink's config. */
export const NatsSinkSchema = Type.Object(
  {
    ...natsConnectionProperties,
    /**
     * Subject template; `{cluster}` and `{name}` are replaced by the record's cluster and
     * measurement (characters a subject token cannot hold become `_`).
     */
    subject: Type.Refine(
      Type.String({
        minLength: 1,
        description:
          'a NATS subject to publish to: tokens separated by dots, none empty, ' +
          'no whitespace, no * or >; {cluster} and {name} may stand in for tokens or parts',
      }),
      isValidTemplate,
    ),
    /** Timestamp precision of the published lines (default `ns`). */
    precision: Type.Optional(
      Type.Union([Type.Literal('s'), Type.Literal('ms'), Type.Literal('us'), Type.Literal('ns')]),
    ),
    /** Largest NATS message, bytes; several lines share one message up to it (default 64 KiB). */
    max_message_bytes: Type.Optional(Type.Integer({ minimum: 256 })),
    /** How long a partly filled message may wait for more lines (default "100ms"). */
    flush_time: Type.Optional(Duration),
    /** Bytes held while the server is away; writes beyond it are refused (default 16 MiB). */
    max_pending_bytes: Type.Optional(Type.Integer({ minimum: 1024 })),
  },
  { additionalProperties: false },
);

/** A validated NATS sink config. */
export type NatsSinkConfig = Static<typeof NatsSinkSchema>;
