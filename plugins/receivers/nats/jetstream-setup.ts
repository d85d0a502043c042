/**
 * Creates or updates the JetStream stream and durable pull consumer the receiver reads,
 * when its config asks for it (`create`). Several store processes may run this at once.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { parseDuration } from '../../../core/duration.ts';
import { createError } from '../../../core/errors.ts';

/** The `create` block of the receiver config. */
export interface StreamCreateConfig {
  /** Subjects the stream captures; default the receiver's subjects. */
  subjects?: string[];
  /** Go-style duration; `0` (default) keeps messages until other limits apply. */
  max_age?: string;
  max_bytes?: number;
  max_msgs?: number;
  storage?: 'file' | 'memory';
  retention?: 'limits' | 'workqueue' | 'interest';
  replicas?: number;
  duplicate_window?: string;
}

/** What the durable consumer looks like. */
export interface ConsumerSetup {
  stream: string;
  durable: string;
  ackWaitMs: number;
  maxAckPending: number;
  maxDeliver: number;
  /** Filter subjects; empty reads the whole stream. Several need nats-server 2.10 or later. */
  filterSubjects: string[];
}

const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/**
 * Ensures stream and consumer exist with the configured settings. The stream's subjects are
 * `create.subjects`, else the receiver's subjects; an existing stream keeps its own when
 * neither is given.
 */
export async function setupJetStream(
  nc: NatsConnection,
  create: StreamCreateConfig,
  consumer: ConsumerSetup,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  const subjects = create.subjects ?? consumer.filterSubjects;
  const cfg = streamConfig(create);
  if (subjects.length > 0) cfg.subjects = subjects;
  await ensureStream(jsm, consumer.stream, cfg);
  await ensureConsumer(jsm, consumer);
}

function streamConfig(c: StreamCreateConfig): Partial<StreamConfig> {
  const cfg: Partial<StreamConfig> = {
    max_age: Number(parseDuration(c.max_age ?? '0')),
    storage: c.storage === 'memory' ? StorageType.Memory : StorageType.File,
    retention:
      c.retention === 'workqueue'
        ? RetentionPolicy.Workqueue
        : c.retention === 'interest'
          ? RetentionPolicy.Interest
          : RetentionPolicy.Limits,
    num_replicas: c.replicas ?? 1,
  };
  if (c.max_bytes !== undefined) cfg.max_bytes = c.max_bytes;
  if (c.max_msgs !== undefined) cfg.max_msgs = c.max_msgs;
  if (c.duplicate_window !== undefined) {
    cfg.duplicate_window = Number(parseDuration(c.duplicate_window));
  }
  return cfg;
}

async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  cfg: Partial<StreamConfig>,
): Promise<void> {
  try {
    await jsm.streams.info(name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== STREAM_NOT_FOUND) throw err;
    if (!cfg.subjects) {
      throw createError(
        'CCES_ERR_CONFIG_INVALID',
        `stream "${name}" does not exist; give create.subjects (or a subject) to create it`,
        { stream: name },
      );
    }
    try {
      await jsm.streams.add({ ...cfg, name });
      return;
    } catch (addErr) {
      // Another store process may have created it a moment ago; then update it below.
      if (!(await exists(() => jsm.streams.info(name)))) throw addErr;
    }
  }
  const { storage: _s, retention: _r, ...updatable } = cfg;
  await jsm.streams.update(name, updatable);
}

async function ensureConsumer(jsm: JetStreamManager, c: ConsumerSetup): Promise<void> {
  const settings = {
    ack_wait: c.ackWaitMs * 1_000_000,
    max_ack_pending: c.maxAckPending,
    max_deliver: c.maxDeliver,
    ...filterOf(c.filterSubjects),
  };
  try {
    await jsm.consumers.info(c.stream, c.durable);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== CONSUMER_NOT_FOUND) throw err;
    try {
      await jsm.consumers.add(c.stream, {
        ...settings,
        durable_name: c.durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
      });
      return;
    } catch (addErr) {
      if (!(await exists(() => jsm.consumers.info(c.stream, c.durable)))) throw addErr;
    }
  }
  await jsm.consumers.update(c.stream, c.durable, settings);
}

/** One subject goes to `filter_subject`, which servers before 2.10 know too. */
function filterOf(subjects: string[]): { filter_subject?: string; filter_subjects?: string[] } {
  if (subjects.length === 0) return {};
  return subjects.length === 1 ? { filter_subject: subjects[0] } : { filter_subjects: subjects };
}

async function exists(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch {
    // Any failure of the probe means "not there"; the caller rethrows the original error.
    return false;
  }
}
