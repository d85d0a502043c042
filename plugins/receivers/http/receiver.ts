/**
 * The HTTP receiver's listener: one write route on its own port.
 */
import type { FastifyRequest } from 'fastify';
import type { Receiver, ReceiverContext } from '../../../core/contracts/receiver.ts';
import type { Precision } from '../../../core/time.ts';
import { refuseRepeatedParams } from '../../shared/http/repeated-params.ts';
import { createHttpApp, listen, type HttpApp } from '../../shared/http/app.ts';
import { toHttpFailure } from '../../shared/http/failure.ts';
import { registerWriteRoutes } from '../../shared/http/write-route.ts';

/** Settings of one HTTP receiver, with defaults applied. */
export interface HttpReceiverOptions {
  name: string;
  address: string;
  port: number;
  path: string;
  /** Credential check; absent when the receiver is open. */
  check?: (request: FastifyRequest) => Promise<void>;
  idleTimeoutMs: number;
  /** Time to receive one whole request, ms. */
  requestTimeoutMs?: number;
  keepAlives: boolean;
  cluster?: string;
  precision: Precision;
  maxBodySize: number;
}

/** A receiver that takes line protocol over HTTP POST. */
export class HttpReceiver implements Receiver {
  readonly #opts: HttpReceiverOptions;
  #app: HttpApp | undefined;
  #stopping: Promise<void> | undefined;
  #port: number | undefined;

  constructor(opts: HttpReceiverOptions) {
    this.#opts = opts;
  }

  /** The bound port once started (useful with port 0). */
  get port(): number | undefined {
    return this.#port;
  }

  async start(ctx: ReceiverContext): Promise<void> {
    const o = this.#opts;
    const app = createHttpApp({
      logger: ctx.logger,
      idleTimeoutMs: o.idleTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      keepAlives: o.keepAlives,
    });
    // Every request refused as a whole (auth, size, overload, storage) is counted by status.
    app.addHook('onError', async (_request, _reply, err) => {
      ctx.count(`refused_${toHttpFailure(err).status}`);
    });
    app.addHook('preValidation', refuseRepeatedParams);
    registerWriteRoutes(app, {
      urls: [o.path],
      dialect: 'cces',
      ingest: ctx.ingest,
      maxBodySize: o.maxBodySize,
      cluster: o.cluster,
      precision: o.precision,
      onRequest: o.check,
    });

    this.#app = app;
    this.#port = (await listen(app, `receiver ${o.name}`, o.address, o.port))?.port;
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#app?.close();
    })();
    return this.#stopping;
  }
}
