/**
 * The REST API server: builds the Fastify app with every core route, then the site
 * extensions, and owns the listener.
 */
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ApiContext, ApiServer } from '../../../core/contracts/api.ts';
import { createHttpApp, listen, type HttpApp } from '../../shared/http/app.ts';
import { registerWriteRoutes } from '../../shared/http/write-route.ts';
import { registerAnalyticsRoutes } from './analytics-routes.ts';
import { createAuthenticator, type Authenticator } from './auth.ts';
import { registerCompatQuery } from './compat-query.ts';
import { registerHealthRoutes } from './health.ts';
import type { TailLimits } from './live-tail.ts';
import { registerMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';
import { registerRecordRoutes } from './records.ts';
import { registerRejectedRoute } from './rejected.ts';
import { refuseRepeatedParams } from '../../shared/http/repeated-params.ts';
import type { RouteDeps } from './route-deps.ts';
import { registerStatsRoute } from './stats.ts';
import { registerStreamRoutes } from './stream.ts';
import { registerUi } from './ui.ts';

/** Settings of the REST API, with defaults applied. */
export interface RestApiOptions {
  address: string;
  port: number;
  /** Standard base64 of a raw Ed25519 public key; empty for an open API. */
  jwtPublicKey: string;
  maxBodySize: number;
  idleTimeoutMs: number;
  /** Time to receive one whole request, ms (default 120 s). */
  requestTimeoutMs?: number;
  keepAlives: boolean;
  /** Serves Swagger UI at `/swagger/`; the OpenAPI document is served either way. */
  enableSwaggerUi?: boolean;
  /** Limits of live tails; defaults in stream.ts. */
  tailLimits?: TailLimits;
  /** Serves `POST /api/v1/sql` (DuckDB storage, admin role); off by default. */
  enableSql?: boolean;
}

/**
 * Builds the app (without listening) for the given context; tests use it with `inject`.
 * Rejects with `CCES_ERR_AUTH_KEY_INVALID` for an unusable key.
 */
export async function buildRestApp(opts: RestApiOptions, ctx: ApiContext): Promise<HttpApp> {
  const auth = await createAuthenticator(opts.jwtPublicKey);
  return buildWithAuth(opts, ctx, auth);
}

async function buildWithAuth(opts: RestApiOptions, ctx: ApiContext, auth: Authenticator) {
  const app = createHttpApp({
    logger: ctx.logger,
    idleTimeoutMs: opts.idleTimeoutMs,
    requestTimeoutMs: opts.requestTimeoutMs,
    keepAlives: opts.keepAlives,
  });
  // The original's query route is a GET with a JSON body.
  app.addHttpMethod('GET', { hasBody: true, overrideExisting: true });
  app.addHook('preValidation', refuseRepeatedParams);
  const authenticate = async (request: FastifyRequest) => auth.authenticate(request);
  const deps: RouteDeps = { app, ctx, authenticate };
  // Both collect routes as they are declared, so they go first.
  await registerOpenApi(app, {
    enableSwaggerUi: opts.enableSwaggerUi ?? false,
    authEnabled: auth.enabled,
  });
  registerMetrics(deps);

  const write = { ingest: ctx.ingest, maxBodySize: opts.maxBodySize, onRequest: authenticate };
  registerWriteRoutes(app, { ...write, urls: ['/api/write'], dialect: 'cces', precision: 'auto' });
  registerWriteRoutes(app, { ...write, urls: ['/write'], dialect: 'influx', precision: 'ns' });
  registerRecordRoutes(deps);
  registerRejectedRoute(deps);
  registerCompatQuery(deps);
  registerStatsRoute(deps);
  registerHealthRoutes(deps);
  registerAnalyticsRoutes(deps, { enableSql: opts.enableSql ?? false, authEnabled: auth.enabled });
  registerStreamRoutes(deps, opts.tailLimits);
  registerUi(deps);

  for (const ext of ctx.extensions) {
    const logger = ctx.logger.child({ extension: ext.name });
    const options = { storage: ctx.storage, authenticate, logger, config: ext.config };
    app.register(ext.plugin, options);
  }
  await app.ready();
  return app;
}

/** The `rest` API server plugin instance. */
export class RestApiServer implements ApiServer {
  readonly #opts: RestApiOptions;
  readonly #auth: Authenticator;
  readonly #logger: Logger;
  #app: HttpApp | undefined;
  #bound: { host: string; port: number } | undefined;
  #stopping: Promise<void> | undefined;

  /** `auth` is built by the factory so that an unusable key fails start-up early. */
  constructor(opts: RestApiOptions, auth: Authenticator, logger: Logger) {
    this.#opts = opts;
    this.#auth = auth;
    this.#logger = logger;
  }

  async start(ctx: ApiContext): Promise<void> {
    const app = await buildWithAuth(this.#opts, ctx, this.#auth);
    this.#app = app;
    this.#bound = await listen(app, 'api', this.#opts.address, this.#opts.port);
    if (this.#auth.enabled) return;
    this.#logger.warn('API is open: no jwt_public_key');
    if (this.#opts.enableSql) {
      this.#logger.warn('enable_sql is on, but without jwt_public_key SQL refuses every request');
    }
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#app?.close();
    })();
    return this.#stopping;
  }

  address(): { host: string; port: number } | undefined {
    return this.#bound;
  }
}
