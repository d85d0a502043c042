/**
 * The API contract: the server that answers clients (the REST API is one), and the
 * extension point through which site Fastify plugins add routes.
 */
import type { Logger } from 'pino';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { CommitFeed } from '../commit-feed.ts';
import type { ReceiverContext } from './receiver.ts';
import type { Storage } from './storage.ts';

/** A snapshot of every counter: scope (such as `receiver:http`) → name → value. */
export type StatsSnapshot = Record<string, Record<string, number>>;

/** What an API server gets from the host. */
export interface ApiContext {
  /** For queries. API servers must not write through it; writes go through `ingest`. */
  storage: Storage;
  /** The write path, as receivers have it, counted under the API's scope. */
  ingest: ReceiverContext['ingest'];
  /** Every counter of the process. */
  stats(): StatsSnapshot;
  /** Whether storage can take writes now. */
  ready(): Promise<boolean>;
  /** The API's own child logger. */
  logger: Logger;
  /** Site extensions named in the API config, loaded by the host, to register after the core routes. */
  extensions: ApiExtension[];
  /**
   * Batches as they commit, for metrics and live tails. Optional: a host without it gives
   * an API without commit histograms and without live streams.
   */
  commits?: CommitFeed;
}

/** What a site extension gets when registered. */
export interface ApiExtensionOptions {
  storage: Storage;
  /** Rejects the request with 401/403 unless it carries a valid token (a no-op without auth). */
  authenticate(request: FastifyRequest): Promise<void>;
  logger: Logger;
  /** The extension's own config object from the API config. */
  config: Record<string, unknown>;
}

/** A site extension: a Fastify plugin (usually wrapped with fastify-plugin) and its name. */
export interface ApiExtension {
  name: string;
  plugin: FastifyPluginAsync<ApiExtensionOptions>;
  config: Record<string, unknown>;
}

/** An API server. */
export interface ApiServer {
  /** Starts listening. Rejects when the address cannot be bound. */
  start(ctx: ApiContext): Promise<void>;
  /** Stops taking requests and answers those in flight. Safe to call twice. */
  stop(): Promise<void>;
  /** The bound address, once started. */
  address?(): { host: string; port: number } | undefined;
}
