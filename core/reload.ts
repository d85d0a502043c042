/**
 * Reloading receivers, sinks and their rules while the store runs: what changed between the
 * running config and the one read again, and the swap that starts the new parts before it
 * stops the old ones, so that intake never pauses.
 */
import type { Logger } from 'pino';
import type { HostConfig, ReceiverSlot, SinkSlot } from './config/index.ts';
import type { PluginInstances } from './contracts/plugin.ts';
import type { Receiver } from './contracts/receiver.ts';
import type { Sink } from './contracts/sink.ts';
import type { PluginSlot } from './plugin-lifecycle.ts';
import type { MessageRules } from './rules.ts';

/** A running receiver as the host keeps it. */
export interface LiveReceiver {
  slot: ReceiverSlot;
  receiver: Receiver;
  /** Makes the receiver's inputs from now on take these `process_messages` rules. */
  setRules(rules: MessageRules | undefined): void;
  /** Stops it and forgets it; logs a failure itself and never rejects. */
  retire(): Promise<void>;
}

/** A running sink as the host keeps it. */
export interface LiveSink {
  slot: SinkSlot;
  sink: Sink;
  /** Closes it and forgets it; logs a failure itself and never rejects. */
  retire(): Promise<void>;
}

/** What a reload did to the receivers or to the sinks, by instance name. */
export interface ReloadChanges {
  added: string[];
  removed: string[];
  /** Changed type or options: a new instance replaced the old one. */
  restarted: string[];
  /** Kept running with new rules (`process_messages` of a receiver, `match` of a sink). */
  rules: string[];
}

/** What a reload changed. */
export interface ReloadSummary {
  receivers: ReloadChanges;
  sinks: ReloadChanges;
  /** Parts whose config changed but that only a restart applies. */
  needsRestart: ('storage' | 'api')[];
}

/** The outcome of `Host.reload()`; a failed reload left the running config as it was. */
export type ReloadResult =
  { ok: true; summary: ReloadSummary } | { ok: false; error: Error & { code?: string } };

/** What the swap needs from the host. */
export interface ReloadOps {
  /** Runs the plugin's factory (nothing starts). */
  create<K extends 'sink' | 'receiver'>(slot: PluginSlot<K>): Promise<PluginInstances[K]>;
  /** Starts a sink; on failure it is closed again and the error thrown. */
  startSink(slot: SinkSlot, sink: Sink): Promise<LiveSink>;
  /** Starts a receiver; on failure it is stopped again and the error thrown. */
  startReceiver(slot: ReceiverSlot, receiver: Receiver): Promise<LiveReceiver>;
  /** Makes `sinks` the router's routes; resolves once work on the old routes is done. */
  replaceRoutes(sinks: LiveSink[]): Promise<void>;
  /** For the steps that deviate from the plan. */
  logger: Logger;
}

type Action = 'keep' | 'rules' | 'start';

interface Step<S, L> {
  slot: S;
  action: Action;
  /** The running instance of the same name, if any. */
  live?: L;
}

interface KindPlan<S, L> {
  steps: Step<S, L>[];
  removed: L[];
}

/** The changes from the running receivers and sinks to the ones of `next`. */
export interface ReloadPlan {
  receivers: KindPlan<ReceiverSlot, LiveReceiver>;
  sinks: KindPlan<SinkSlot, LiveSink>;
  summary: ReloadSummary;
}

/** Compares what runs with the config read again; pure. */
export function planReload(
  running: { config: HostConfig; receivers: LiveReceiver[]; sinks: LiveSink[] },
  next: HostConfig,
): ReloadPlan {
  const receivers = planKind(running.receivers, next.receivers, (s) => s.processMessages);
  const sinks = planKind(running.sinks, next.sinks, (s) => s.match);
  const needsRestart: ReloadSummary['needsRestart'] = [];
  if (storageKey(running.config) !== storageKey(next)) needsRestart.push('storage');
  if (apiKey(running.config) !== apiKey(next)) needsRestart.push('api');
  const summary = { receivers: changesOf(receivers), sinks: changesOf(sinks), needsRestart };
  return { receivers, sinks, summary };
}

/**
 * Carries out a plan: runs every factory, starts new sinks and then new receivers (undoing
 * those started when one fails, and throwing its error: the old ones still run), hands the
 * new rules over, swaps the routes, stops the old receivers, and closes the old sinks once
 * routes in progress on them are done. Returns the receivers and sinks that now run.
 *
 * A new receiver that cannot start beside its old instance (which may hold its port) gets a
 * second try after the old one stopped; if that fails too, the old one is started again.
 */
export async function applyReload(
  plan: ReloadPlan,
  ops: ReloadOps,
): Promise<{ receivers: LiveReceiver[]; sinks: LiveSink[] }> {
  const sinkSteps = plan.sinks.steps.filter((s) => s.action === 'start');
  const receiverSteps = plan.receivers.steps.filter((s) => s.action === 'start');
  const sinkInstances = await Promise.all(sinkSteps.map((s) => ops.create(s.slot)));
  const receiverInstances = await Promise.all(receiverSteps.map((s) => ops.create(s.slot)));

  const started = new Map<Step<unknown, unknown>, LiveSink | LiveReceiver>();
  const stoppedEarly: LiveReceiver[] = [];
  try {
    for (const [i, step] of sinkSteps.entries()) {
      started.set(step, await ops.startSink(step.slot, sinkInstances[i]!));
    }
    for (const [i, step] of receiverSteps.entries()) {
      started.set(step, await startReceiver(step, receiverInstances[i]!, ops, stoppedEarly));
    }
  } catch (err) {
    for (const live of [...started.values()].reverse()) await live.retire();
    for (const old of stoppedEarly) await restart(old, ops);
    throw err;
  }

  const pick = <L>(step: Step<unknown, L>) => started.get(step) as L | undefined;
  const receivers = plan.receivers.steps.map((step) => {
    if (step.action === 'rules') step.live!.setRules(step.slot.rules);
    return pick(step) ?? { ...step.live!, slot: step.slot };
  });
  const sinks = plan.sinks.steps.map((step) => pick(step) ?? { ...step.live!, slot: step.slot });

  const drained = ops.replaceRoutes(sinks);
  const replaced = <S, L>(p: KindPlan<S, L>) => [
    ...p.steps.filter((s) => s.action === 'start' && s.live).map((s) => s.live!),
    ...p.removed,
  ];
  await Promise.all(replaced(plan.receivers).map((live) => live.retire()));
  await drained;
  await Promise.all(replaced(plan.sinks).map((live) => live.retire()));
  return { receivers, sinks };
}

async function startReceiver(
  step: Step<ReceiverSlot, LiveReceiver>,
  receiver: Receiver,
  ops: ReloadOps,
  stoppedEarly: LiveReceiver[],
): Promise<LiveReceiver> {
  try {
    return await ops.startReceiver(step.slot, receiver);
  } catch (err) {
    if (!step.live) throw err;
    const code = (err as { code?: unknown }).code;
    const log = { receiver: step.slot.name, code, reason: (err as Error).message };
    ops.logger.warn(log, 'new receiver cannot start beside the old one; stopping the old first');
    stoppedEarly.push(step.live);
    await step.live.retire();
    return ops.startReceiver(step.slot, await ops.create(step.slot));
  }
}

/** Starts a receiver that a failed reload stopped again, in place of its retired instance. */
async function restart(old: LiveReceiver, ops: ReloadOps): Promise<void> {
  try {
    Object.assign(old, await ops.startReceiver(old.slot, await ops.create(old.slot)));
  } catch (err) {
    // The reload's own error is what the caller reports; this one would otherwise vanish.
    ops.logger.error({ receiver: old.slot.name, err }, 'receiver not restarted; it stays stopped');
  }
}

function planKind<S extends PluginSlot, L extends { slot: S }>(
  running: L[],
  next: S[],
  rulesOf: (slot: S) => unknown,
): KindPlan<S, L> {
  const byName = new Map(running.map((l) => [l.slot.name, l]));
  const steps = next.map((slot): Step<S, L> => {
    const live = byName.get(slot.name);
    byName.delete(slot.name);
    if (!live || instanceKey(live.slot) !== instanceKey(slot)) {
      return { slot, action: 'start', live };
    }
    const same = stableJson(rulesOf(live.slot)) === stableJson(rulesOf(slot));
    return { slot, action: same ? 'keep' : 'rules', live };
  });
  return { steps, removed: [...byName.values()] };
}

function changesOf<S extends PluginSlot, L extends { slot: S }>(p: KindPlan<S, L>): ReloadChanges {
  const names = (f: (s: Step<S, L>) => boolean) => p.steps.filter(f).map((s) => s.slot.name);
  return {
    added: names((s) => s.action === 'start' && !s.live),
    removed: p.removed.map((l) => l.slot.name),
    restarted: names((s) => s.action === 'start' && s.live !== undefined),
    rules: names((s) => s.action === 'rules'),
  };
}

/** Equal for two slots that would build the same instance. */
function instanceKey(slot: PluginSlot): string {
  return stableJson([slot.plugin.resolved, slot.configDir, slot.config]);
}

function storageKey(cfg: HostConfig): string {
  const { settings, backend } = cfg.storage;
  return stableJson([settings, instanceKey(backend)]);
}

function apiKey(cfg: HostConfig): string {
  const { slot, extensions } = cfg.api;
  return stableJson([instanceKey(slot), extensions.map((e) => [e.name, e.config])]);
}

/** JSON with object keys sorted, so that reordered keys in a file are no change. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const obj = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .sort()
        .map((k) => [k, obj[k]]),
    );
  });
}
