/**
 * Checks for the services some suites need. Under CI a missing service fails the run; on a
 * developer machine the suite is skipped with the reason.
 */
import { connect } from 'node:net';

/** True when something accepts TCP connections on host:port within `timeoutMs`. */
export function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

/**
 * Resolves to a skip reason (string) when the service is down outside CI, to false when it is
 * up; throws under CI when it is down.
 */
export async function skipUnless(name: string, host: string, port: number): Promise<string | false> {
  if (await reachable(host, port)) return false;
  const reason = `${name} is not reachable on ${host}:${port}`;
  if (process.env.CI) throw new Error(`${reason} (required under CI)`);
  return `${reason}; skipped`;
}

/** Skip reason for suites that need PostgreSQL at 127.0.0.1:5432. */
export const postgresSkip = () => skipUnless('PostgreSQL', '127.0.0.1', 5432);

/** Skip reason for suites that need NATS at 127.0.0.1:4222. */
export const natsSkip = () => skipUnless('NATS', '127.0.0.1', 4222);
