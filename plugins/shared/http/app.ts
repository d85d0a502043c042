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

/** Per-route settings of error answers. */
export interface RouteDialect {
  /** The error body format (`influx`: `{"error": ...}` as InfluxDB 1.x). */
  dialect?: 'cces' | 'influx';
  /** The config key that sets the route's body limit, named when a body passes it. */
  bodyLimitKey?: string;
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

  // The one place a failed request is logged: routes throw and never log what they throw.
  app.setErrorHandler((err, request, reply) => {
    const f = toHttpFailure(err);
    // Fastify's own sentence names neither the limit nor how to raise it.
    if ((err as { code?: unknown }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      f.message = bodyTooLarge(request);
    }
    const route = request.routeOptions.url;
    if (isServerFault(f)) {
      logger.error({ err, code: f.code, method: request.method, route }, 'request failed');
    } else if (f.status === 503) {
      busy.add(1, { code: f.code, route });
    } else {
      // The client's doing (a bad request, or an ability this backend lacks): not our failure.
      const where = { status: f.status, code: f.code, method: request.method, route };
      logger.debug(where, 'request refused');
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

function bodyTooLarge(request: FastifyRequest): string {
  const limit = request.routeOptions.bodyLimit;
  const key = (request.routeOptions.config as RouteDialect | undefined)?.bodyLimitKey;
  return key === undefined
    ? `the body exceeds the limit of ${limit} bytes`
    : `the body exceeds ${key} (${limit} bytes)`;
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
