/**
 * `GET /metrics`: Prometheus text exposition from a registry of this API's own (never
 * prom-client's global one, so two stores in one process stay apart).
 *
 * Counters are read from the host's stats at scrape time, so they can never drift from
 * `GET /api/stats/`; histograms are observed where the work happens: commits through the
 * commit feed, queries in an `onResponse` hook.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StatsSnapshot } from '../../../core/contracts/api.ts';
import type { RouteDeps } from './route-deps.ts';

/** Routes whose latency `cces_query_duration_seconds` observes, labelled by route. */
const QUERY_ROUTES = new Set(['/api/v1/events', '/api/v1/logs', '/api/query', '/api/v1/rejected']);

/** Per-scope counters with a metric of their own; every counter is also in `cces_stat`. */
const PLAIN = ['received', 'stored', 'duplicates', 'refused'] as const;

/**
 * Registers `/metrics` (behind the API's auth, like `/api/...`) and the observers that feed
 * its histograms. Call before the other routes so the query hook sees them.
 */
export function registerMetrics({ app, ctx, authenticate }: RouteDeps): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Read once per scrape, in the handler, so that every metric of one scrape agrees.
  let snapshot: StatsSnapshot = {};

  for (const name of PLAIN) {
    counter(registry, `cces_${name}_total`, `${name} entries by scope`, ['scope'], (set) => {
      for (const [scope, c] of Object.entries(snapshot)) {
        if (c[name] !== undefined) set({ scope }, c[name]);
      }
    });
  }
  counter(
    registry,
    'cces_rejected_total',
    'rejected entries by scope and reason',
    ['scope', 'reason'],
    (set) => eachPrefixed(snapshot, 'rejected_', (scope, reason, v) => set({ scope, reason }, v)),
  );
  counter(
    registry,
    'cces_skipped_total',
    'entries that are not events or logs',
    ['scope', 'type'],
    (set) => eachPrefixed(snapshot, 'skipped_', (scope, type, v) => set({ scope, type }, v)),
  );
  counter(registry, 'cces_retention_deleted_total', 'rows deleted by retention', ['kind'], (set) =>
    eachPrefixed(snapshot, 'retention_deleted_', (_s, kind, v) => set({ kind }, v)),
  );
  registerGauges(registry, () => snapshot);
  observeCommits(registry, { app, ctx });
  observeQueries(registry, app);

  app.get('/metrics', {
    schema: { hide: true },
    onRequest: authenticate,
    handler: async (_request, reply) => {
      snapshot = { ...ctx.stats(), database: { ...(await ctx.storage.stats()) } };
      const text = await registry.metrics();
      return (reply as FastifyReply).type(registry.contentType).send(text);
    },
  });
  return registry;
}

type Setter = (labels: Record<string, string>, value: number) => void;

/** A counter whose values are set from the stats snapshot at every scrape. */
function counter(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  fill: (set: Setter) => void,
) {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill((labels, value) => this.inc(labels, value));
    },
  });
}

/** Calls `fn` for every counter named `<prefix><label>` of every scope. */
function eachPrefixed(
  snapshot: StatsSnapshot,
  prefix: string,
  fn: (scope: string, label: string, value: number) => void,
): void {
  for (const [scope, counters] of Object.entries(snapshot)) {
    for (const [name, value] of Object.entries(counters)) {
      if (name.startsWith(prefix) && name.length > prefix.length) {
        fn(scope, name.slice(prefix.length), value);
      }
    }
  }
}

/** Gauges of the snapshot; `database` holds the storage's sizes, read at the same scrape. */
function registerGauges(registry: Registry, current: () => StatsSnapshot): void {
  new Gauge({
    name: 'cces_stat',
    help: 'every counter of GET /api/stats/, by scope and name',
    labelNames: ['scope', 'name'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [scope, c] of Object.entries(current())) {
        for (const [name, v] of Object.entries(c)) {
          if (typeof v === 'number') this.set({ scope, name }, v);
        }
      }
    },
  });
  new Gauge({
    name: 'cces_queue_depth',
    help: 'records accepted and waiting for their commit',
    registers: [registry],
    collect() {
      this.set(current().storage?.queue_depth ?? 0);
    },
  });
  new Gauge({
    name: 'cces_storage_records',
    help: 'rows in storage by kind (event, log, rejected)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const s = current().database;
      if (!s) return;
      this.set({ kind: 'event' }, s.events);
      this.set({ kind: 'log' }, s.logs);
      this.set({ kind: 'rejected' }, s.rejected);
    },
  });
  new Gauge({
    name: 'cces_storage_bytes',
    help: 'size of the storage on disk, when the backend knows it',
    registers: [registry],
    collect() {
      const bytes = current().database?.bytes;
      if (bytes !== undefined) this.set(bytes);
    },
  });
}

function observeCommits(registry: Registry, { app, ctx }: Pick<RouteDeps, 'app' | 'ctx'>) {
  const size = new Histogram({
    name: 'cces_batch_size',
    help: 'records per committed storage transaction',
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'cces_commit_duration_seconds',
    help: 'time of one storage transaction',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const stop = ctx.commits?.subscribe((n) => {
    size.observe(n.records.length);
    latency.observe(n.seconds);
  });
  if (stop) app.addHook('onClose', async () => stop());
}

function observeQueries(registry: Registry, app: RouteDeps['app']): void {
  const latency = new Histogram({
    name: 'cces_query_duration_seconds',
    help: 'time to answer a query route, by route and status class',
    labelNames: ['route', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
    const route = request.routeOptions.url;
    if (route === undefined || !QUERY_ROUTES.has(route)) return;
    const status = `${Math.floor(reply.statusCode / 100)}xx`;
    latency.observe({ route, status }, reply.elapsedTime / 1000);
  });
}
