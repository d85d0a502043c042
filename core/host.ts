/**
 * The host: reads the configuration, creates every plugin, and starts storage, the storage
 * manager, sinks, the router, the API and receivers in that order. Stopping goes the other
 * way: intake first, then the API, the router and sinks, the storage manager (which drains),
 * and storage last. A reload (core/reload.ts) swaps receivers, sinks and rules meanwhile.
 */
import type { Logger } from 'pino';
import type { ApiContext, ApiServer } from './contracts/api.ts';
import type { PluginFactoryContext, PluginKind } from './contracts/plugin.ts';
import type { Receiver, ReceiverContext } from './contracts/receiver.ts';
import type { Sink } from './contracts/sink.ts';
import type { Storage } from './contracts/storage.ts';
import {
  loadHostConfig,
  type HostConfig,
  type ReceiverSlot,
  type SinkSlot,
} from './config/index.ts';
import { CommitFeed } from './commit-feed.ts';
import { createError } from './errors.ts';
import { createIngest, type IngestDeps } from './ingest.ts';
import { createLogger, pluginLogger } from './logger.ts';
import type { PluginSlot } from './plugin-lifecycle.ts';
import { createInstance, DEFAULT_START_TIMEOUT_MS, startWithin } from './plugin-lifecycle.ts';
import { applyReload, planReload, type LiveReceiver, type LiveSink } from './reload.ts';
import type { ReloadOps, ReloadResult } from './reload.ts';
import { Router } from './router.ts';
import type { MessageRules } from './rules.ts';
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
  /**
   * Reads the config again and applies the changes of receivers, sinks and their rules
   * without a pause in intake (storage and API changes wait for a restart; a warning says
   * so). Never rejects: on any error the running config stays, the error is logged once and
   * counted (`reload_failures` under `host`), and the result carries it. Reloads run one at
   * a time; one asked for while stopping fails with `CCES_ERR_RELOAD_STOPPING`.
   */
  reload(): Promise<ReloadResult>;
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
  const timeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const host = new RunningHost(config, root, opts.stats ?? new Stats(), {
    builtins: opts.builtins ?? BUILTINS,
    timeoutMs,
  });
  await host.start(timeoutMs);
  return host;
}

class RunningHost implements Host {
  readonly stats: Stats;
  readonly #root: Logger;
  readonly #steps: StopStep[] = [];
  readonly #loggers = new Map<string, Logger>();
  readonly #commits = new CommitFeed();
  readonly #builtins: BuiltinMap;
  readonly #timeoutMs: number;
  #config: HostConfig;
  #api: ApiServer | undefined;
  #deps: IngestDeps | undefined;
  #router: Router | undefined;
  #routerStep: StopStep | undefined;
  #receivers: LiveReceiver[] = [];
  #sinks: LiveSink[] = [];
  #started = false;
  #reloading: Promise<unknown> = Promise.resolve();
  #stopping: Promise<void> | undefined;
  #stopFailures = 0;

  constructor(
    config: HostConfig,
    root: Logger,
    stats: Stats,
    opts: { builtins: BuiltinMap; timeoutMs: number },
  ) {
    this.#config = config;
    this.stats = stats;
    this.#root = root;
    this.#builtins = opts.builtins;
    this.#timeoutMs = opts.timeoutMs;
  }

  /** The config that runs: after a reload, its receivers and sinks with the old storage and API. */
  get config(): HostConfig {
    return this.#config;
  }

  get stopFailures(): number {
    return this.#stopFailures;
  }

  apiAddress(): { host: string; port: number } | undefined {
    return this.#api?.address?.();
  }

  stop(): Promise<void> {
    // A reload in progress finishes first, so that what it started is stopped too.
    this.#stopping ??= this.#reloading.then(() => this.#unwind(undefined));
    return this.#stopping;
  }

  reload(): Promise<ReloadResult> {
    const run = this.#reloading.then(() => this.#reload());
    this.#reloading = run;
    return run;
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
    this.#started = true;
    const address = this.apiAddress();
    const counts = { receivers: this.config.receivers.length, sinks: this.config.sinks.length };
    this.#root.info({ ...counts, api: address, config: this.config.file }, 'store started');
  }

  async #startAll(inst: Instances, timeoutMs: number): Promise<void> {
    const manager = await this.#startStorage(inst.storage, timeoutMs);
    const router = await this.#startRouting(manager, inst.sinks, timeoutMs);
    const logger = this.#coreLogger('router');
    const deps: IngestDeps = { router, storage: manager, stats: this.stats, logger };
    this.#deps = deps;
    await this.#startApi(inst, manager, deps, timeoutMs);
    for (const { slot, receiver } of inst.receivers) {
      this.#receivers.push(await this.#startReceiver(slot, receiver, timeoutMs));
    }
  }

  /** Opens storage, then starts the storage manager in front of it. */
  async #startStorage(storage: Storage, timeoutMs: number): Promise<StorageManager> {
    const { backend, options, where } = this.config.storage;
    const log = this.#logger(backend);
    this.#onStop('storage', log, () => storage.close());
    await startWithin(backend, 'open', () => storage.open(), timeoutMs);
    log.info({ type: backend.plugin.spec }, 'storage open');

    const managerLog = this.#coreLogger('storage-manager');
    const onCommit = this.#commits.publish.bind(this.#commits);
    const deps = { logger: managerLog, stats: this.stats, onCommit };
    const manager = new StorageManager(storage, options, deps);
    this.#onStop('storage manager', managerLog, () => manager.close());
    const slot = { kind: 'storage' as const, name: 'storage-manager', where };
    await startWithin(slot, 'start', () => manager.start(), timeoutMs);
    return manager;
  }

  /** Starts the sinks, then the router that feeds storage and them. */
  async #startRouting(manager: StorageManager, sinks: Instances['sinks'], timeoutMs: number) {
    for (const { slot, sink } of sinks) {
      this.#sinks.push(await this.#startSink(slot, sink, timeoutMs));
    }
    const router = new Router(
      manager,
      routesOf(this.#sinks),
      this.stats,
      this.#coreLogger('router'),
    );
    this.#router = router;
    this.#routerStep = this.#onStop('router', this.#coreLogger('router'), () => router.close());
    return router;
  }

  /** Starts a sink. Its close step goes below the router's: it closes once routing ended. */
  async #startSink(slot: SinkSlot, sink: Sink, timeoutMs: number): Promise<LiveSink> {
    const log = this.#logger(slot);
    const step = this.#onStop(`sink ${slot.name}`, log, () => sink.close(), this.#routerStep);
    await this.#startStep(step, () => startWithin(slot, 'start', () => sink.start?.(), timeoutMs));
    log.info({ type: slot.plugin.spec }, 'sink started');
    return { slot, sink, retire: () => this.#retire(step) };
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
      commits: this.#commits,
    };
    this.#api = inst.api;
    this.#onStop('api', logger, () => inst.api.stop());
    await startWithin(slot, 'start', () => inst.api.start(ctx), timeoutMs);
  }

  async #startReceiver(slot: ReceiverSlot, receiver: Receiver, timeoutMs: number) {
    const log = this.#logger(slot);
    const scope = `receiver:${slot.name}`;
    const deps = { ...this.#deps!, logger: log };
    let ingest = createIngest(deps, scope, { rules: slot.rules });
    const ctx: ReceiverContext = {
      // A reload may give a running receiver new rules; each input takes the current ones.
      ingest: (input, opts) => ingest(input, opts),
      logger: log,
      count: (name, n = 1) => this.stats.add(scope, name, n),
    };
    const step = this.#onStop(`receiver ${slot.name}`, log, () => receiver.stop());
    await this.#startStep(step, () =>
      startWithin(slot, 'start', () => receiver.start(ctx), timeoutMs),
    );
    log.info({ type: slot.plugin.spec }, 'receiver started');

    const setRules = (rules: MessageRules | undefined) => {
      ingest = createIngest(deps, scope, { rules });
    };
    const live: LiveReceiver = { slot, receiver, setRules, retire: () => this.#retire(step) };
    return live;
  }

  async #reload(): Promise<ReloadResult> {
    if (this.#stopping) {
      const err = createError('CCES_ERR_RELOAD_STOPPING', 'the store is stopping; not reloaded');
      return this.#reloadFailed(err);
    }
    const running = { config: this.#config, receivers: this.#receivers, sinks: this.#sinks };
    let result: ReloadResult & { ok: true };
    try {
      const next = await loadHostConfig(this.#config.file, this.#builtins);
      const plan = planReload(running, next);
      const live = await applyReload(plan, this.#reloadOps());
      this.#receivers = live.receivers;
      this.#sinks = live.sinks;
      this.#config = { ...next, storage: this.#config.storage, api: this.#config.api };
      result = { ok: true, summary: plan.summary };
    } catch (err) {
      return this.#reloadFailed(err);
    }

    const { receivers, sinks, needsRestart } = result.summary;
    if (needsRestart.length > 0) {
      this.#root.warn({ parts: needsRestart }, 'config change needs a restart; not applied');
    }
    this.stats.add('host', 'reloads');
    this.#root.info({ receivers, sinks }, 'reloaded');
    return result;
  }

  #reloadFailed(err: unknown): ReloadResult {
    this.stats.add('host', 'reload_failures');
    const code = (err as { code?: unknown }).code;
    this.#root.error({ code, err }, 'reload failed; running config kept');
    return { ok: false, error: err as Error & { code?: string } };
  }

  #reloadOps(): ReloadOps {
    const ms = this.#timeoutMs;
    return {
      create: (slot) => createInstance(slot, this.#factoryContext(slot)),
      startSink: (slot, sink) => this.#startSink(slot, sink, ms),
      startReceiver: (slot, receiver) => this.#startReceiver(slot, receiver, ms),
      replaceRoutes: (sinks) => this.#router!.replaceRoutes(routesOf(sinks)),
      logger: this.#root,
    };
  }

  /**
   * Runs a plugin's start. After start-up (a reload), a failed start is undone at once;
   * during start-up the unwinding that follows undoes it with the rest.
   */
  async #startStep(step: StopStep, start: () => Promise<void>): Promise<void> {
    try {
      await start();
    } catch (err) {
      if (this.#started) await this.#retire(step, this.#timeoutMs);
      throw err;
    }
  }

  /** Registers how to undo a start step (below `before` when given); undone last-first. */
  #onStop(label: string, logger: Logger, run: () => Promise<void>, before?: StopStep): StopStep {
    const step = { label, logger, run };
    const at = before ? this.#steps.indexOf(before) : -1;
    if (at >= 0) this.#steps.splice(at, 0, step);
    else this.#steps.push(step);
    return step;
  }

  /**
   * Undoes one step now (a reload retires an instance); a failure is logged and counted. A
   * step already undone is left alone.
   */
  async #retire(step: StopStep, limitMs?: number): Promise<void> {
    const at = this.#steps.indexOf(step);
    if (at < 0) return;
    this.#steps.splice(at, 1);
    if (!(await this.#runStep(step, limitMs))) this.stats.add('host', 'retire_failures');
  }

  /** Runs every stop step, last-started first. `limitMs` bounds each step (on start-up failure). */
  async #unwind(limitMs: number | undefined): Promise<void> {
    this.#root.info({}, 'stopping');
    while (this.#steps.length > 0) {
      if (!(await this.#runStep(this.#steps.pop()!, limitMs))) this.#stopFailures++;
    }
    this.#root.info({ failures: this.#stopFailures }, 'stopped');
  }

  /** Runs one stop step, bounded by `limitMs` when given; false (logged) when it failed. */
  async #runStep(step: StopStep, limitMs: number | undefined): Promise<boolean> {
    try {
      const done = limitMs === undefined ? step.run() : withLimit(step.run(), limitMs);
      if ((await done) !== 'timeout') return true;
      step.logger.error({ limitMs }, `${step.label} did not stop in time`);
    } catch (err) {
      // Stopping goes on so that storage is still closed; the failure is reported here once.
      step.logger.error({ err }, `${step.label} failed to stop`);
    }
    return false;
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

/** The router's routes to the running sinks. */
function routesOf(sinks: LiveSink[]) {
  return sinks.map(({ slot, sink }) => ({ name: slot.name, sink, match: slot.match }));
}

/** Waits for `p` at most `ms`; resolves `'timeout'` when time ran out first. */
function withLimit(p: Promise<void>, ms: number): Promise<void | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
