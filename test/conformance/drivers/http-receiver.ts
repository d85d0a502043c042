/**
 * A conformance driver for the `http` receiver: a free port on 127.0.0.1, line protocol
 * POSTed to it, and a port held by another listener for the failing start.
 *
 * `npm run conformance -- http http.json --driver test/conformance/drivers/http-receiver.ts`
 */
import { createServer, type Server } from 'node:net';
import type { DriverFactory } from '../driver.ts';

const driver: DriverFactory = async ({ config }) => {
  const taken = await listenAnywhere();
  const port = await freePort();
  const path = typeof config.path === 'string' ? config.path : '/write';
  return {
    config: { ...config, address: '127.0.0.1', port },
    failingConfig: { ...config, address: '127.0.0.1', port: portOf(taken) },
    async send(text) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: text });
      if (res.status !== 204) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    },
    close: () => new Promise<void>((resolve) => taken.close(() => resolve())),
  };
};

export default driver;

function listenAnywhere(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

function portOf(srv: Server): number {
  return (srv.address() as { port: number }).port;
}

async function freePort(): Promise<number> {
  const srv = await listenAnywhere();
  const port = portOf(srv);
  await new Promise((resolve) => srv.close(resolve));
  return port;
}
