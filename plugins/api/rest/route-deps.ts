/**
 * What every route module of the REST API gets, and the schema of error answers.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiContext } from '../../../core/contracts/api.ts';
import type { HttpApp } from '../../shared/http/app.ts';

export { ErrorSchema } from '../../shared/http/failure.ts';

/** Dependencies of a route module. */
export interface RouteDeps {
  app: HttpApp;
  ctx: ApiContext;
  /** onRequest hook that refuses requests without a valid token (a no-op without auth). */
  authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}
