/**
 * The Fastify instance both HTTP servers of the store use: TypeBox schemas, no per-request
 * log lines (headers carry tokens and passwords), and one error format.
 */
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { BurstLogger } from '../../../core/burst-logger.ts';
import { createError } from '../../../core/errors.ts';
import { isServerFault, toHttpFailure, type HttpFailure } from './failure.ts';

/** A Fastify instance typed for TypeBox schemas. */
export type HttpApp = FastifyInstance<any, any, any, Logger, TypeBoxTypeProvider>;

/** Settings of one HTTP server. */
export interface HttpAppOptions {
  logger: Logger;
  /** How long an idle keep-alive connection stays open, ms. */
  idleTimeoutMs: number;
  /** When false, every answer closes its connection. */
  keepAlives: boolean;
  /** Default body limit of routes that set none, bytes. */
  bodyLimit?: number;
  /**
   * Longest time to receive one whole request (headers and body), ms; a client that
   * stalls longer is cut off with 408. Default 120 s.
   */
  requestTimeoutMs?: number;
}

/** Default time to receive a whole request: a 64 MiB body at about 0.5 MB/s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

/** Per-route setting: the error body format (`influx`: `{"error": ...}` as InfluxDB 1.x). */
export interface RouteDialect {
  dialect?: 'cces' | 'influx';
}

/** Creates the instance with the store's error and not-found answers installed. */
export function createHttpApp(opts: HttpAppOptions): HttpApp {
  // Fastify turns node's request timeout off (0): a client that sends half a request and
  // stalls would then hold its socket forever. The check runs every few seconds.
  const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    requestTimeout,
    http: {
      headersTimeout: Math.min(60_000, requestTimeout),
      connectionsCheckingInterval: Math.min(5_000, Math.max(250, requestTimeout / 4)),
    },
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    keepAliveTimeout: opts.idleTimeoutMs,
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
    // An unknown query parameter is an error, not silently dropped (a mistyped filter
    // would otherwise return everything).
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as HttpApp;

  if (!opts.keepAlives) {
    app.addHook('onRequest', async (_req, reply) => {
      reply.header('connection', 'close');
    });
  }
  installErrorHandling(app, opts.logger);
  return app;
}

/** Sends a failure in the route's dialect. */
export function sendFailure(request: FastifyRequest, reply: FastifyReply, f: HttpFailure) {
  reply.code(f.status).headers(f.headers);
  const dialect = (request.routeOptions.config as RouteDialect | undefined)?.dialect;
  if (dialect === 'influx') return reply.send({ error: f.message, code: f.code });
  return reply.send({ code: f.code, message: f.message });
}

function installErrorHandling(app: HttpApp, logger: Logger): void {
  const busy = new BurstLogger(logger, 'warn', 'requests refused: retry later');

  app.setErrorHandler((err, request, reply) => {
    const f = toHttpFailure(err);
    if (isServerFault(f)) {
      logger.error(
        { err, method: request.method, route: request.routeOptions.url },
        'request failed',
      );
    } else if (f.status === 503) {
      busy.add(1, { code: f.code, route: request.routeOptions.url });
    }
    return sendFailure(request, reply, f);
  });

  app.setNotFoundHandler((request, reply) => {
    const f: HttpFailure = {
      status: 404,
      code: 'CCES_ERR_HTTP_NOT_FOUND',
      message: `no route for ${request.method} ${request.url.split('?')[0]}`,
      headers: {},
    };
    return sendFailure(request, reply, f);
  });

  app.addHook('onClose', async () => busy.flush());
}

/**
 * Listens and returns the bound address. Fastify logs one `<who> listening at <url>` line
 * per address. Rejects with `CCES_ERR_HTTP_LISTEN` (after closing the app) when the address
 * cannot be bound.
 */
export async function listen(app: HttpApp, who: string, host: string, port: number) {
  try {
    await app.listen({ host, port, listenTextResolver: (url) => `${who} listening at ${url}` });
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    const why = code === 'EADDRINUSE' ? 'the port is in use' : (err as Error).message;
    throw createError(
      'CCES_ERR_HTTP_LISTEN',
      `${who} cannot listen on ${host}:${port}: ${why}; change address or port in its config`,
      { host, port, reason: code },
      err,
    );
  }
  const addr = app.server.address();
  return addr !== null && typeof addr === 'object'
    ? { host: addr.address, port: addr.port }
    : undefined;
}
