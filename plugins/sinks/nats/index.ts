/**
 * The `nats` sink plugin: republishes routed events and logs as line protocol on subjects
 * made from a template such as `events.{cluster}.{name}`.
 */
import { definePlugin } from '../../../core/contracts/plugin.ts';
import { NatsSinkSchema } from './schema.ts';
import { NatsSink } from './sink.ts';

export default definePlugin({
  kind: 'sink',
  type: 'nats',
  contract: '^1.0.0',
  configSchema: NatsSinkSchema,
  create: (config, ctx) => new NatsSink(config, ctx),
});

export { NatsSinkSchema } from './schema.ts';
export type { NatsSinkConfig } from './schema.ts';
