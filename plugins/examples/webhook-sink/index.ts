/**
 * The `webhook` example sink: POSTs the records its `match` rule picks as JSON to a URL,
 * `{"records": [...]}` per batch, retrying failed deliveries and holding at most
 * `max_queue` records. Config: `url`, `headers` (such as an authorization header),
 * `timeout` (default "5s"), `max_retries` (default 3), `retry_delay` (first delay,
 * doubled per retry, default "200ms"), `max_queue` (default 10000).
 */
import { definePlugin, parseDurationMs, Type } from '../../../core/index.ts';
import { WebhookSink } from './webhook-sink.ts';

/** The config schema. */
export const WebhookConfigSchema = Type.Object(
  {
    url: Type.String({ pattern: '^https?://' }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    timeout: Type.Optional(Type.String()),
    max_retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    retry_delay: Type.Optional(Type.String()),
    max_queue: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export default definePlugin({
  kind: 'sink',
  type: 'webhook',
  contract: '^1.0.0',
  configSchema: WebhookConfigSchema,
  create: (config, ctx) =>
    new WebhookSink(
      {
        url: config.url,
        headers: config.headers ?? {},
        timeoutMs: parseDurationMs(config.timeout ?? '5s'),
        maxRetries: config.max_retries ?? 3,
        retryDelayMs: parseDurationMs(config.retry_delay ?? '200ms'),
        maxQueue: config.max_queue ?? 10_000,
      },
      ctx.logger,
    ),
});
