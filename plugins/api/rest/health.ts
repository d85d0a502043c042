/**
 * `GET /healthz` (the process answers) and `GET /readyz` (storage takes writes). Both stay
 * open without a token: load balancers and orchestrators probe them.
 */
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { createError } from '../../../core/errors.ts';
import { ErrorSchema, type RouteDeps } from './route-deps.ts';

const StatusSchema = Type.Object({ status: Type.String() });

/** Registers the health routes. */
export function registerHealthRoutes({ app, ctx }: RouteDeps): void {
  app.get('/healthz', {
    schema: { response: { 200: StatusSchema } },
    handler: async () => ({ status: 'ok' }),
  });

  // InfluxDB clients and Telegraf probe /ping before writing to /write.
  app.get('/ping', {
    schema: { response: { 204: Type.Null() } },
    handler: async (_request, reply) =>
      (reply as FastifyReply).code(204).header('x-influxdb-version', '1.8-cces').send(),
  });

  app.get('/readyz', {
    schema: { response: { 200: StatusSchema, 503: ErrorSchema } },
    handler: async () => {
      if (await ctx.ready()) return { status: 'ready' };
      throw createError('CCES_ERR_STORAGE_UNAVAILABLE', 'storage cannot take writes now');
    },
  });
}
