/**
 * `GET /api/v1/jobs/{cluster}/{jobId}`: the job view for ClusterCockpit. Job events are
 * found by the record's cluster (taken from the JSON payload when the scheduler adapter sent
 * no cluster tag) and the payload's jobId, never by hostname: adapters tag their own host.
 *
 * Answer: `{ cluster, jobId, runs: [{ start_time, start, stop, from, to, hosts, events,
 * logs, truncated }] }`, one run per start (a requeued job has several, told apart by
 * `start_time`, Unix seconds; `?startTime=` keeps one). `start`/`stop` are items as in
 * `GET /api/v1/events` or null; `from`/`to` the window in ns (inclusive; `to` null while the
 * job runs); `events`/`logs` the records of the job's hosts (`resources[].hostname`) in the
 * window, oldest first, at most 10,000 each (`truncated` says when more exist). A stop
 * without a known start has no window and so no host records.
 */
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Storage } from '../../../core/contracts/storage.ts';
import { createError } from '../../../core/errors.ts';
import type { RecordKind, StoredRecord } from '../../../core/record.ts';
import { JOB_EVENT_NAMES, pairJobRuns, type JobRun } from './job-runs.ts';
import { itemJson } from './record-format.ts';
import { ErrorSchema, type RouteDeps } from './route-deps.ts';

/** Most host events (and, separately, logs) one run lists. */
export const MAX_JOB_RECORDS = 10_000;

const MAX_JOB_EVENTS = 1000;

const JobParamsSchema = Type.Object({
  cluster: Type.String({ minLength: 1 }),
  jobId: Type.String({ minLength: 1 }),
});

const JobQuerySchema = Type.Object(
  { startTime: Type.Optional(Type.Integer({ description: 'Unix seconds of one run' })) },
  { additionalProperties: false },
);

/** Registers the job view. */
export function registerJobRoute({ app, ctx, authenticate }: RouteDeps): void {
  app.get('/api/v1/jobs/:cluster/:jobId', {
    schema: {
      params: JobParamsSchema,
      querystring: JobQuerySchema,
      response: { '4xx': ErrorSchema, '5xx': ErrorSchema },
    },
    onRequest: authenticate,
    handler: async (request, typed) => {
      const reply = typed as FastifyReply;
      const { cluster, jobId } = request.params;
      const page = await ctx.storage.query({
        kind: 'event',
        clusters: [cluster],
        jobId,
        names: JOB_EVENT_NAMES,
        order: 'asc',
        limit: MAX_JOB_EVENTS,
      });
      const wanted = request.query.startTime;
      const runs = pairJobRuns(page.records).filter(
        (run) => wanted === undefined || run.startTime === wanted,
      );
      if (runs.length === 0) {
        const which = wanted === undefined ? '' : ` started at ${wanted}`;
        throw createError(
          'CCES_ERR_JOB_NOT_FOUND',
          `no start or stop event of job ${jobId}${which} on cluster ${cluster} is stored`,
          { cluster, jobId },
        );
      }
      const parts: string[] = [];
      for (const run of runs) parts.push(await runJson(ctx.storage, cluster, run));
      const head = `"cluster":${JSON.stringify(cluster)},"jobId":${JSON.stringify(jobId)}`;
      const body = `{${head},"runs":[${parts.join(',')}]}`;
      return reply.type('application/json; charset=utf-8').send(body);
    },
  });
}

async function runJson(storage: Storage, cluster: string, run: JobRun): Promise<string> {
  const own = new Set([run.start?.id, run.stop?.id]);
  const events = await hostRecords(storage, 'event', cluster, run);
  const logs = await hostRecords(storage, 'log', cluster, run);
  const eventItems = events.records.filter((r) => !own.has(r.id));
  const item = (r: StoredRecord | null) => (r ? itemJson(r) : 'null');
  return (
    `{"start_time":${run.startTime ?? 'null'},"start":${item(run.start)},` +
    `"stop":${item(run.stop)},"from":${nsText(run.from)},"to":${nsText(run.to)},` +
    `"hosts":${JSON.stringify(run.hosts)},"events":[${eventItems.map(itemJson).join(',')}],` +
    `"logs":[${logs.records.map(itemJson).join(',')}],` +
    `"truncated":${events.more || logs.more}}`
  );
}

async function hostRecords(storage: Storage, kind: RecordKind, cluster: string, run: JobRun) {
  if (run.from === null || run.hosts.length === 0) return { records: [], more: false };
  const page = await storage.query({
    kind,
    clusters: [cluster],
    hostnames: run.hosts,
    from: run.from,
    to: run.to === null ? undefined : run.to + 1n,
    order: 'asc',
    limit: MAX_JOB_RECORDS,
  });
  return { records: page.records, more: page.next !== undefined };
}

function nsText(ns: bigint | null): string {
  return ns === null ? 'null' : `"${ns}"`;
}
