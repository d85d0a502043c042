/**
 * A Server-Sent Events client for tests, on node:http: parses events as they arrive and lets
 * a test wait for the next ones. Its socket can be paused to play a slow client.
 */
import { request, type ClientRequest, type IncomingMessage } from 'node:http';

/** One parsed event. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** An open event stream. */
export interface SseClient {
  status: number;
  response: IncomingMessage;
  events: SseEvent[];
  /** Resolves once at least `n` events arrived in total (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens `url`; resolves when the status line and headers arrived. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, {
      headers: { accept: 'text/event-stream', ...headers },
    });
    req.on('error', reject);
    req.on('response', (res) => resolve(client(req, res)));
    req.end();
  });
}

function client(req: ClientRequest, res: IncomingMessage): SseClient {
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const ev = parse(block);
      if (ev) events.push(ev);
    }
    for (const w of waiters) w();
  });
  const ended = new Promise<void>((r) => res.on('close', r));
  return {
    status: res.statusCode ?? 0,
    response: res,
    events,
    ended,
    close: () => req.destroy(),
    waitFor: (n, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (events.length < n) return;
          cleanup();
          resolve(events.slice());
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`waited ${timeoutMs} ms for ${n} events, got ${events.length}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Parses one event block; comments and `retry` alone give none. */
function parse(block: string): SseEvent | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return undefined;
  return { id, event, data: data.join('\n') };
}
