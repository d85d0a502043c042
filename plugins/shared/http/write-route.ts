/**
 * The line-protocol write route, shared by the REST API (`/api/write`, InfluxDB's `/write`)
 * and the HTTP receiver: raw or compressed body in, the ingest result out as a status.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { ReceiverContext } from '../../../core/contracts/receiver.ts';
import { createError } from '../../../core/errors.ts';
import type { Precision } from '../../../core/time.ts';
import type { HttpApp } from './app.ts';
import { acceptRawBodies, decodeBody } from './body.ts';
import { ErrorSchema } from './failure.ts';
import {
  InfluxErrorSchema,
  ingestReply,
  WriteRejectedSchema,
  type WriteDialect,
} from './write-reply.ts';

/** `?precision=` values and what they mean; `n` and `u` are InfluxDB's spellings. */
const PRECISION: Record<string, Precision> = {
  auto: 'auto',
  s: 's',
  ms: 'ms',
  us: 'us',
  ns: 'ns',
  u: 'us',
  n: 'ns',
};

// Only values the route takes, so that the schema's "must be one of" lists nothing refused.
// InfluxDB's `m` and `h` are not among them: the write path reads `s` to `ns` only.
const PrecisionParam = Type.Enum(Object.keys(PRECISION));
const InfluxPrecisionParam = Type.Enum(['s', 'ms', 'u', 'n', 'us', 'ns']);

/** Query string of `/api/write` and of the HTTP receiver. */
export const WriteQuerySchema = Type.Object(
  {
    cluster: Type.Optional(Type.String({ minLength: 1 })),
    precision: Type.Optional(PrecisionParam),
  },
  { additionalProperties: false },
);

/**
 * Query string of InfluxDB's `/write`; its other parameters (rp, u, p, ...) are ignored.
 * `cluster` is another name for `db`, for clients of `/api/write` (and of the original, whose
 * write route took `?cluster=`); both at once must agree.
 */
export const InfluxWriteQuerySchema = Type.Object({
  db: Type.Optional(Type.String({ minLength: 1, description: 'cluster of lines without one' })),
  cluster: Type.Optional(Type.String({ minLength: 1, description: 'another name for db' })),
  precision: Type.Optional(InfluxPrecisionParam),
});

/** What a write route needs. */
export interface WriteRouteOptions {
  urls: string[];
  dialect: WriteDialect;
  ingest: ReceiverContext['ingest'];
  /** Largest body, bytes, before and after decompression. */
  maxBodySize: number;
  /** Cluster for lines without one when the request names none. */
  cluster?: string;
  /** Precision when the request states none. */
  precision: Precision;
  /** Runs before the body is read: authentication. */
  onRequest?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

type Query = Static<typeof WriteQuerySchema> & Static<typeof InfluxWriteQuerySchema>;

/** Registers the write route(s) in their own context, where every body arrives raw. */
export function registerWriteRoutes(app: HttpApp, opts: WriteRouteOptions): void {
  const influx = opts.dialect === 'influx';
  const errorBody = influx ? InfluxErrorSchema : ErrorSchema;
  const schema = {
    querystring: influx ? InfluxWriteQuerySchema : WriteQuerySchema,
    response: {
      204: Type.Null(),
      400: influx ? InfluxErrorSchema : WriteRejectedSchema,
      '4xx': errorBody,
      '5xx': errorBody,
    },
  };

  app.register(async (instance) => {
    acceptRawBodies(instance);
    const child = instance as unknown as HttpApp;
    for (const url of opts.urls) {
      child.post(url, {
        schema,
        bodyLimit: opts.maxBodySize,
        config: { dialect: opts.dialect, bodyLimitKey: 'max_body_size' },
        onRequest: opts.onRequest,
        handler: (request, reply) => write(request, reply, opts),
      });
    }
  });
}

async function write(request: FastifyRequest, reply: FastifyReply, opts: WriteRouteOptions) {
  const q = request.query as Query;
  refuseCommaCluster(q);
  refuseTwoClusters(q);
  const precision = q.precision === undefined ? opts.precision : PRECISION[q.precision]!;
  const body = await decodeBody(
    request.body as Buffer | undefined,
    request.headers['content-encoding'],
    opts.maxBodySize,
    'max_body_size',
  );
  const cluster = q.cluster ?? q.db ?? opts.cluster;
  const result = await opts.ingest(body, { cluster, precision });
  return ingestReply(reply, result, opts.dialect);
}

// On /write, `db` and `cluster` name the same thing: two different names are a mistake that
// no choice between them would fix.
function refuseTwoClusters(q: Query): void {
  if (q.db === undefined || q.cluster === undefined || q.db === q.cluster) return;
  throw createError(
    'CCES_ERR_QUERY_INVALID',
    `db "${q.db}" and cluster "${q.cluster}" name different clusters; ` +
      'cluster is another name for db here, so give one of them',
    { param: 'cluster', value: q.cluster },
  );
}

// Cluster filters split at commas, so a cluster named with one could never be queried.
function refuseCommaCluster(q: Query): void {
  const param = q.cluster === undefined ? 'db' : 'cluster';
  const name = q.cluster ?? q.db;
  if (name === undefined || !name.includes(',')) return;
  throw createError(
    'CCES_ERR_QUERY_INVALID',
    `${param}: "${name}" holds a comma; cluster names cannot, ` +
      'since cluster filters split at commas',
    { param, value: name },
  );
}
