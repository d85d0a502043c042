/**
 * The `nats` receiver plugin: line protocol from NATS subjects (core mode) or from a
 * JetStream durable consumer (jetstream mode).
 */
import { definePlugin } from '../../../core/contracts/plugin.ts';
import { NatsReceiver } from './receiver.ts';
import { NatsReceiverSchema } from './schema.ts';

export default definePlugin({
  kind: 'receiver',
  type: 'nats',
  contract: '^1.2.0',
  configSchema: NatsReceiverSchema,
  create: (config, ctx) => new NatsReceiver(config, ctx),
});

export { NatsReceiverSchema } from './schema.ts';
export type { NatsReceiverConfig } from './schema.ts';
