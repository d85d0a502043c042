/**
 * An example API extension: a site Fastify plugin, named in the API config's `extensions`,
 * that adds `GET /api/site/latest?cluster=&name=`, the newest events of a cluster (at most
 * `limit` from its config, default 10), behind the API's own token check.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { formatRfc3339, type ApiExtensionOptions } from '../../../core/index.ts';

interface LatestQuery {
  cluster: string;
  name?: string;
}

async function latestEvents(app: FastifyInstance, opts: ApiExtensionOptions): Promise<void> {
  const limit = typeof opts.config.limit === 'number' ? opts.config.limit : 10;
  const schema = {
    querystring: {
      type: 'object',
      required: ['cluster'],
      properties: { cluster: { type: 'string', minLength: 1 }, name: { type: 'string' } },
      additionalProperties: false,
    },
  };
  app.get<{ Querystring: LatestQuery }>(
    '/api/site/latest',
    { schema, onRequest: (request) => opts.authenticate(request) },
    async (request) => {
      const { cluster, name } = request.query;
      const page = await opts.storage.query({
        kind: 'event',
        clusters: [cluster],
        ...(name === undefined ? {} : { names: [name] }),
        order: 'desc',
        limit,
      });
      opts.logger.debug({ cluster, count: page.records.length }, 'latest events');
      return {
        cluster,
        events: page.records.map((r) => ({
          name: r.name,
          time: formatRfc3339(r.time),
          hostname: r.tags.hostname ?? null,
          payload: r.payload,
        })),
      };
    },
  );
}

export default fp(latestEvents, { name: 'site-latest-events', fastify: '5.x' });
