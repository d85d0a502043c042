/**
 * Watches a NATS connection's status events: every state change is logged once and every
 * repeat is counted, so a server that stays away for an hour gives two log lines, not
 * thousands.
 */
import type { Logger } from 'pino';
import type { NatsConnection, Status } from '@nats-io/transport-node';
import { BurstLogger } from '../../../core/burst-logger.ts';

/** Counts by name (the receiver's or sink's counters). */
export type CountFn = (name: string, n?: number) => void;

/** Extra handling of one status event, such as counting slow-consumer notices. */
export type StatusHook = (status: Status) => void;

/**
 * Follows `nc.status()` until the connection closes. Counters: `disconnects`,
 * `reconnect_attempts`, `reconnects`, `nats_errors`, `stale_connections`.
 */
export function watchNatsStatus(
  nc: NatsConnection,
  logger: Logger,
  count: CountFn,
  hook?: StatusHook,
): Promise<void> {
  const state: WatchState = {
    connected: true,
    attempts: 0,
    errors: new BurstLogger(logger, 'error', 'nats error'),
  };
  return (async () => {
    for await (const s of nc.status()) {
      hook?.(s);
      logStatus(s, state, logger, count);
    }
    state.errors.flush();
  })();
}

interface WatchState {
  connected: boolean;
  attempts: number;
  errors: BurstLogger;
}

function logStatus(s: Status, state: WatchState, logger: Logger, count: CountFn): void {
  switch (s.type) {
    case 'disconnect':
      count('disconnects');
      if (state.connected) logger.warn({ server: s.server }, 'nats disconnected; reconnecting');
      state.connected = false;
      break;
    case 'reconnecting':
      count('reconnect_attempts');
      state.attempts++;
      break;
    case 'reconnect':
      count('reconnects');
      logger.info({ server: s.server, attempts: state.attempts }, 'nats reconnected');
      state.connected = true;
      state.attempts = 0;
      break;
    case 'error':
      count('nats_errors');
      state.errors.add(1, { err: s.error });
      break;
    case 'staleConnection':
      count('stale_connections');
      if (state.connected) logger.warn('nats connection is stale');
      break;
    case 'ldm':
      logger.info({ server: s.server }, 'nats server entering lame duck mode');
      break;
    default:
      break;
  }
}
