/**
 * The `tail` example receiver: line protocol appended to a file (a log a collector writes),
 * read as `tail -F` does, rotation and truncation included. Config: `path` (relative to the
 * config file), `poll_interval` (default "250ms"), `start_at` (`end`, the default, or
 * `beginning`), `cluster` (for lines without one), `precision` (default auto). A string
 * value with a raw line feed that is still being written when polled is reported as a
 * syntax error; writers should append whole entries.
 */
import { resolve } from 'node:path';
import { definePlugin, parseDurationMs, PRECISIONS, Type } from '../../../core/index.ts';
import type { Precision } from '../../../core/index.ts';
import { TailReceiver } from './tail-receiver.ts';

/** The config schema. */
export const TailConfigSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'file to follow' }),
    poll_interval: Type.Optional(Type.String({ description: 'Go-style duration' })),
    start_at: Type.Optional(Type.Union([Type.Literal('end'), Type.Literal('beginning')])),
    cluster: Type.Optional(Type.String({ minLength: 1 })),
    precision: Type.Optional(Type.Enum([...PRECISIONS])),
  },
  { additionalProperties: false },
);

export default definePlugin({
  kind: 'receiver',
  type: 'tail',
  contract: '^1.0.0',
  configSchema: TailConfigSchema,
  create: (config, ctx) =>
    new TailReceiver({
      path: resolve(ctx.configDir, config.path),
      pollMs: parseDurationMs(config.poll_interval ?? '250ms'),
      fromEnd: (config.start_at ?? 'end') === 'end',
      ingest: { cluster: config.cluster, precision: config.precision as Precision | undefined },
    }),
});
