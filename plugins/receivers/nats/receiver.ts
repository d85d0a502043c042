/**
 * The NATS receiver: connects, then reads either plain subscriptions (core mode) or a
 * JetStream durable consumer, handing every message body to ingest.
 */
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import type { Receiver, ReceiverContext } from '../../../core/contracts/receiver.ts';
import type { PluginFactoryContext } from '../../../core/contracts/plugin.ts';
import { parseDurationMs } from '../../../core/duration.ts';
import { createError } from '../../../core/errors.ts';
import { redactUrl } from '../../../core/logger.ts';
import { connectNats, natsConnectOptions, natsServerUrl } from '../../shared/nats/connection.ts';
import { watchNatsStatus } from '../../shared/nats/status-log.ts';
import { CoreIntake } from './core-intake.ts';
import { COALESCE_BYTES } from './work-queue.ts';
import { JetStreamIntake } from './jetstream-intake.ts';
import { setupJetStream } from './jetstream-setup.ts';
import type { NatsReceiverConfig } from './schema.ts';
import type { SubscriptionDefaults, SubscriptionSpec } from './subscriptions.ts';

interface Intake {
  stop(): Promise<void>;
}

/** A NATS receiver instance. */
export class NatsReceiver implements Receiver {
  #cfg: NatsReceiverConfig;
  #factory: PluginFactoryContext;
  #specs: SubscriptionSpec[];
  #connectOpts: NodeConnectionOptions;
  #nc?: NatsConnection;
  #intake?: Intake;
  #status?: Promise<void>;
  #stopped?: Promise<void>;

  /**
   * Checks the rules the schema cannot express (`CCES_ERR_CONFIG_INVALID`) and reads the
   * credential files (`CCES_ERR_CONFIG_NOT_FOUND`).
   */
  constructor(cfg: NatsReceiverConfig, factory: PluginFactoryContext) {
    this.#cfg = cfg;
    this.#factory = factory;
    this.#specs = [
      ...(cfg.subject ? [{ subject: cfg.subject }] : []),
      ...(cfg.subscriptions ?? []),
    ];
    if ((cfg.mode ?? 'core') === 'core' && this.#specs.length === 0) {
      throw invalid('core mode needs "subject" or "subscriptions"', factory.name);
    }
    if (cfg.mode === 'jetstream' && (!cfg.stream || !cfg.durable)) {
      throw invalid('jetstream mode needs "stream" and "durable"', factory.name);
    }
    this.#connectOpts = natsConnectOptions(
      cfg,
      factory.configDir,
      `cc-event-store:${factory.name}`,
    );
  }

  /** Connects and starts reading. Rejects with `CCES_ERR_NATS_CONNECT` or `..._JETSTREAM`. */
  async start(ctx: ReceiverContext): Promise<void> {
    const cfg = this.#cfg;
    const nc = (this.#nc = await connectNats(this.#connectOpts));
    ctx.logger.info(
      { server: redactUrl(natsServerUrl(cfg)), mode: cfg.mode ?? 'core' },
      'nats connected',
    );
    this.#status = watchNatsStatus(nc, ctx.logger, ctx.count, (s) => {
      if (s.type === 'slowConsumer') ctx.count('slow_consumer_notices');
    });
    try {
      this.#intake =
        cfg.mode === 'jetstream'
          ? await this.#startJetStream(nc, ctx)
          : await this.#startCore(nc, ctx);
    } catch (err) {
      await nc.close();
      throw err;
    }
  }

  /** Stops intake, waits for in-flight messages, drains and closes the connection. */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    await this.#intake?.stop();
    const nc = this.#nc;
    if (nc && !nc.isClosed()) {
      // drain() flushes outstanding acks before closing; a connection lost meanwhile just closes.
      await nc.drain().catch(() => nc.close());
    }
    await this.#status;
  }

  #defaults(): SubscriptionDefaults {
    return { cluster: this.#cfg.cluster, precision: this.#cfg.precision };
  }

  async #startCore(nc: NatsConnection, ctx: ReceiverContext): Promise<Intake> {
    const cfg = this.#cfg;
    const intake = new CoreIntake(nc, this.#specs, this.#defaults(), ctx, {
      concurrency: cfg.concurrency ?? 8,
      maxPending: cfg.max_pending ?? 65_536,
      maxPendingBytes: cfg.max_pending_bytes ?? 64 * 1024 * 1024,
      maxBatch: cfg.coalesce ?? 1000,
      maxBatchBytes: COALESCE_BYTES,
    });
    await intake.start();
    return intake;
  }

  async #startJetStream(nc: NatsConnection, ctx: ReceiverContext): Promise<Intake> {
    const cfg = this.#cfg;
    const ackWaitMs = parseDurationMs(cfg.ack_wait ?? '30s');
    if (cfg.create) {
      await setupJetStream(nc, cfg.create, {
        stream: cfg.stream!,
        durable: cfg.durable!,
        ackWaitMs,
        maxAckPending: cfg.max_ack_pending ?? 4096,
        maxDeliver: cfg.max_deliver ?? -1,
        filterSubjects: this.#specs.map((s) => s.subject),
      });
    }
    const intake = new JetStreamIntake(
      nc,
      ctx,
      {
        stream: cfg.stream!,
        durable: cfg.durable!,
        batch: cfg.batch ?? 512,
        maxPendingBytes: cfg.max_pending_bytes ?? 64 * 1024 * 1024,
        concurrency: cfg.concurrency ?? 8,
        coalesce: cfg.coalesce ?? 1000,
        nakDelayMs: parseDurationMs(cfg.nak_delay ?? '5s'),
        ackWaitMs,
      },
      this.#specs,
      this.#defaults(),
    );
    await intake.start();
    return intake;
  }
}

function invalid(message: string, name: string) {
  return createError('CCES_ERR_CONFIG_INVALID', `receiver "${name}": ${message}`, {
    receiver: name,
  });
}
