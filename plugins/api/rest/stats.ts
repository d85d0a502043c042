/**
 * `GET /api/stats/`: every counter of the process by scope, the write queue's depth and the
 * database's sizes.
 */
import { Type } from 'typebox';
import type { StatsSnapshot } from '../../../core/contracts/api.ts';
import { ErrorSchema, type RouteDeps } from './route-deps.ts';

const StatsSchema = Type.Object(
  {
    queue_depth: Type.Integer({ description: 'records waiting for a commit' }),
    database: Type.Object({
      events: Type.Integer(),
      logs: Type.Integer(),
      rejected: Type.Integer(),
      bytes: Type.Optional(Type.Integer()),
    }),
  },
  {
    additionalProperties: Type.Record(Type.String(), Type.Number()),
    description:
      'besides queue_depth and database: scope (such as receiver:http) → counter → value',
  },
);

/** Registers the stats route. */
export function registerStatsRoute({ app, ctx, authenticate }: RouteDeps): void {
  app.get('/api/stats', {
    schema: { response: { 200: StatsSchema, '4xx': ErrorSchema, '5xx': ErrorSchema } },
    onRequest: authenticate,
    handler: async () => {
      const snapshot = ctx.stats();
      const database = await ctx.storage.stats();
      return { ...snapshot, queue_depth: queueDepth(snapshot), database };
    },
  });
}

/** The storage manager's queue gauge. */
function queueDepth(snapshot: StatsSnapshot): number {
  return snapshot.storage?.queue_depth ?? 0;
}
