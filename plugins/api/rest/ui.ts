/**
 * `GET /ui`: a page to look at events and logs, served from plain files under `ui/` (no
 * build step, nothing from a CDN). The files hold no data, so they are served without a
 * token; the page asks for one and sends it with every API call.
 */
import { readFileSync } from 'node:fs';
import type { FastifyReply } from 'fastify';
import type { RouteDeps } from './route-deps.ts';

const FILES = [
  { url: '/ui', file: 'index.html', type: 'text/html; charset=utf-8' },
  { url: '/ui/app.js', file: 'app.js', type: 'text/javascript; charset=utf-8' },
  { url: '/ui/style.css', file: 'style.css', type: 'text/css; charset=utf-8' },
];

/** Registers the page and its assets, read once at start. */
export function registerUi({ app }: RouteDeps): void {
  for (const { url, file, type } of FILES) {
    const body = readFileSync(new URL(`./ui/${file}`, import.meta.url));
    app.get(url, {
      schema: { hide: true },
      handler: async (_request, reply) =>
        (reply as FastifyReply)
          .type(type)
          .header('cache-control', 'no-cache')
          .header('content-security-policy', "default-src 'self'; style-src 'self'")
          .send(body),
    });
  }
}
