/**
 * The host: reads the configuration, creates every plugin, and starts storage, the storage
 * manager, sinks, the router, the API and receivers in that order. Stopping goes the other
 * way: intake first, then the API, the router and sinks, the storage manager (which drains),
 * and storage last.
 */
import type { Logger } from 'pino';
import type { ApiContext, ApiServer } from './contracts/api.ts';
import type { PluginFactoryContext, PluginKind } from './contracts/plugin.ts';
import type { Receiver, ReceiverContext } from './contracts/receiver.ts';
import type { Sink } from './contracts/sink.ts';
import type { Storage } from './contracts/storage.ts';
import { loadHostConfig, type HostConfig } from './config/index.ts';
import { createIngest, type IngestDeps } from './ingest.ts';
import { createLogger, pluginLogger } from './logger.ts';
import type { PluginSlot } from './plugin-lifecycle.ts';
import { createInstance, DEFAULT_START_TIMEOUT_MS, startWithin } from './plugin-lifecycle.ts';
import { Router, type SinkRoute } from './router.ts';
import { Stats } from './stats.ts';
import { StorageManager } from './storage-manager.ts';
import { BUILTINS, type BuiltinMap } from '../plugins/builtins.ts';

/** How to run a host. */
export interface HostOptions {
  /** Root logger; each plugin gets a child. Default: a new pino logger on stdout. */
  logger?: Logger;
  /** Built-in plugin table; tests pass their own. Default: the store's built-ins. */
  builtins?: BuiltinMap;
  /** Time each plugin may take to open or start, ms. Default 30 s. */
  startTimeoutMs?: number;
  /** Counters to use; default a new set. */
  stats?: Stats;
}

/** A running store. */
export interface Host {
  readonly config: HostConfig;
  readonly stats: Stats;
  /** The API's bound address, when the API reports one. */
  apiAddress(): { host: string; port: number } | undefined;
  /**
   * Stops everything in order and resolves when done; a step that fails is logged and the
   * others still run. A second call returns the first call's promise.
   */
  stop(): Promise<void>;
  /** How many stop steps failed (logged each); 0 after a clean stop. */
  readonly stopFailures: number;
}

interface StopStep {
  label: string;
  logger: Logger;
  run: () => Promise<void>;
}

/** One instance of every configured plugin, created and not yet started. */
export interface Instances {
  storage: Storage;
  sinks: { slot: HostConfig['sinks'][number]; sink: Sink }[];
  api: ApiServer;
  receivers: { slot: HostConfig['receivers'][number]; receiver: Receiver }[];
}

/**
 * Reads the config at `configPath` and runs every plugin factory, as start-up does, without
 * opening, starting or binding anything (`--validate`). Factories only build objects and
 * read the files their config names; the instances are dropped.
 */
export async function validateHostConfig(
  configPath: string,
  opts: Pick<HostOptions, 'builtins' | 'logger'> = {},
): Promise<HostConfig> {
  const config = await loadHostConfig(configPath, opts.builtins ?? BUILTINS);
  const root = opts.logger ?? createLogger({ level: 'silent' });
  await createInstances(config, (slot) => ({
    name: slot.name,
    logger: pluginLogger(root, slot.kind, slot.name),
    configDir: slot.configDir,
  }));
  return config;
}

/** Runs every factory, so that a bad config entry fails before anything opens. */
export async function createInstances(
  config: HostConfig,
  contextOf: (slot: PluginSlot) => PluginFactoryContext,
): Promise<Instances> {
  const { storage, api, receivers, sinks } = config;
  const create = <K extends PluginKind>(slot: PluginSlot<K>) =>
    createInstance(slot, contextOf(slot));
  return {
    storage: await create(storage.backend),
    sinks: await Promise.all(sinks.map(async (slot) => ({ slot, sink: await create(slot) }))),
    api: await create(api.slot),
    receivers: await Promise.all(
      receivers.map(async (slot) => ({ slot, receiver: await create(slot) })),
    ),
  };
}

/**
 * Starts a store from the central config at `configPath`. Every factory runs before anything
 * opens. On a failure everything already started is stopped again, the plugin that failed
 * included (its start may have bound or connected something), each stop step bounded by
 * the start timeout; then the error is thrown, not logged: the caller reports it.
 */
export async function startHost(configPath: string, opts: HostOptions = {}): Promise<Host> {
  const root = opts.logger ?? createLogger();
  const config = await loadHostConfig(configPath, opts.builtins ?? BUILTINS);
  const host = new RunningHost(config, root, opts.stats ?? new Stats());
  await host.start(opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
  return host;
}

class RunningHost implements Host {
  readonly config: HostConfig;
  readonly stats: Stats;
  readonly #root: Logger;
  readonly #steps: StopStep[] = [];
  readonly #loggers = new Map<string, Logger>();
  #api: ApiServer | undefined;
  #stopping: Promise<void> | undefined;
  #stopFailures = 0;

  constructor(config: HostConfig, root: Logger, stats: Stats) {
    this.config = config;
    this.stats = stats;
    this.#root = root;
  }

  get stopFailures(): number {
    return this.#stopFailures;
  }

  apiAddress(): { host: string; port: number } | undefined {
    return this.#api?.address?.();
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#unwind(undefined);
    return this.#stopping;
  }

  async start(timeoutMs: number): Promise<void> {
    try {
      const inst = await createInstances(this.config, (slot) => this.#factoryContext(slot));
      await this.#startAll(inst, timeoutMs);
    } catch (err) {
      this.#root.info(
        { code: (err as { code?: unknown }).code },
        'start-up failed; stopping what started',
      );
      this.#stopping = this.#unwind(timeoutMs);
      await this.#stopping;
      throw err;
    }
    const address = this.apiAddress();
    const counts = { receivers: this.config.receivers.length, sinks: this.config.sinks.length };
    this.#root.info({ ...counts, api: address, config: this.config.file }, 'store started');
  }

  async #startAll(inst: Instances, timeoutMs: number): Promise<void> {
    const manager = await this.#startStorage(inst.storage, timeoutMs);
    const router = await this.#startRouting(manager, inst.sinks, timeoutMs);
    const logger = this.#coreLogger('router');
    const deps: IngestDeps = { router, storage: manager, stats: this.stats, logger };
    await this.#startApi(inst, manager, deps, timeoutMs);
    await this.#startReceivers(inst.receivers, deps, timeoutMs);
  }

  /** Opens storage, then starts the storage manager in front of it. */
  async #startStorage(storage: Storage, timeoutMs: number): Promise<StorageManager> {
    const { backend, options, where } = this.config.storage;
    const log = this.#logger(backend);
    this.#onStop('storage', log, () => storage.close());
    await startWithin(backend, 'open', () => storage.open(), timeoutMs);
    log.info({ type: backend.plugin.spec }, 'storage open');

    const managerLog = this.#coreLogger('storage-manager');
    const manager = new StorageManager(storage, options, { logger: managerLog, stats: this.stats });
    this.#onStop('storage manager', managerLog, () => manager.close());
    const slot = { kind: 'storage' as const, name: 'storage-manager', where };
    await startWithin(slot, 'start', () => manager.start(), timeoutMs);
    return manager;
  }

  /** Starts the sinks, then the router that feeds storage and them. */
  async #startRouting(manager: StorageManager, sinks: Instances['sinks'], timeoutMs: number) {
    for (const { slot, sink } of sinks) {
      this.#onStop(`sink ${slot.name}`, this.#logger(slot), () => sink.close());
      await startWithin(slot, 'start', () => sink.start?.(), timeoutMs);
      this.#logger(slot).info({ type: slot.plugin.spec }, 'sink started');
    }

    const routes: SinkRoute[] = sinks.map(({ slot, sink }) => ({
      name: slot.name,
      sink,
      match: slot.match,
    }));
    const router = new Router(manager, routes, this.stats, this.#coreLogger('router'));
    this.#onStop('router', this.#coreLogger('router'), () => router.close());
    return router;
  }

  async #startApi(inst: Instances, manager: StorageManager, deps: IngestDeps, timeoutMs: number) {
    const { slot, extensions } = this.config.api;
    const logger = this.#logger(slot);
    const ctx: ApiContext = {
      storage: inst.storage,
      ingest: createIngest({ ...deps, logger }, 'api'),
      stats: () => this.stats.snapshot(),
      ready: () => manager.ready(),
      logger,
      extensions,
    };
    this.#api = inst.api;
    this.#onStop('api', logger, () => inst.api.stop());
    await startWithin(slot, 'start', () => inst.api.start(ctx), timeoutMs);
  }

  async #startReceivers(receivers: Instances['receivers'], deps: IngestDeps, timeoutMs: number) {
    for (const { slot, receiver } of receivers) {
      const log = this.#logger(slot);
      const scope = `receiver:${slot.name}`;
      const ctx: ReceiverContext = {
        ingest: createIngest({ ...deps, logger: log }, scope, { rules: slot.rules }),
        logger: log,
        count: (name, n = 1) => this.stats.add(scope, name, n),
      };
      this.#onStop(`receiver ${slot.name}`, log, () => receiver.stop());
      await startWithin(slot, 'start', () => receiver.start(ctx), timeoutMs);
      log.info({ type: slot.plugin.spec }, 'receiver started');
    }
  }

  /** Registers how to undo a start step; steps are undone last-first. */
  #onStop(label: string, logger: Logger, run: () => Promise<void>): void {
    this.#steps.push({ label, logger, run });
  }

  /** Runs every stop step, last-started first. `limitMs` bounds each step (on start-up failure). */
  async #unwind(limitMs: number | undefined): Promise<void> {
    this.#root.info({}, 'stopping');
    while (this.#steps.length > 0) {
      const step = this.#steps.pop()!;
      try {
        const done = limitMs === undefined ? step.run() : withLimit(step.run(), limitMs);
        if ((await done) === 'timeout') {
          this.#stopFailures++;
          step.logger.error({ limitMs }, `${step.label} did not stop in time`);
        }
      } catch (err) {
        // Stopping goes on so that storage is still closed; the failure is reported here once.
        this.#stopFailures++;
        step.logger.error({ err }, `${step.label} failed to stop`);
      }
    }
    this.#root.info({ failures: this.#stopFailures }, 'stopped');
  }

  #factoryContext(slot: PluginSlot): PluginFactoryContext {
    return { name: slot.name, logger: this.#logger(slot), configDir: slot.configDir };
  }

  /** The logger of a core part (storage manager, router). */
  #coreLogger(name: string): Logger {
    return this.#logger({ kind: 'core', name });
  }

  /** The one child logger of a plugin instance. */
  #logger(slot: { kind: string; name: string }): Logger {
    const id = `${slot.kind}\u0000${slot.name}`;
    let log = this.#loggers.get(id);
    if (!log) this.#loggers.set(id, (log = pluginLogger(this.#root, slot.kind, slot.name)));
    return log;
  }
}

/** Waits for `p` at most `ms`; resolves `'timeout'` when time ran out first. */
function withLimit(p: Promise<void>, ms: number): Promise<void | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
