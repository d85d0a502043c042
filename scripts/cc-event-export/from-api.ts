/**
 * Export over a running store's API: `GET /api/v1/export` streamed into a file, with the
 * download's bytes on the progress bar (the store sends the file's length).
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { redactUrl } from '../../core/logger.ts';
import type { ExportArgs } from './args.ts';
import type { Progress } from './progress.ts';

/** Downloads the export of `args` into `file`; resolves to its size in bytes. */
export async function downloadExport(
  args: ExportArgs,
  file: string,
  progress: Progress,
): Promise<number> {
  const url = new URL(`${args.url}/api/v1/export`);
  url.searchParams.set('kind', args.kind);
  url.searchParams.set('format', args.format);
  // Times were parsed here already: send them exact, in ns.
  url.searchParams.set('precision', 'ns');
  if (args.from !== undefined) url.searchParams.set('from', String(args.from));
  if (args.to !== undefined) url.searchParams.set('to', String(args.to));
  const headers: Record<string, string> = {};
  if (args.token) headers.authorization = `Bearer ${args.token}`;

  let res: Response;
  try {
    res = await fetch(url, { headers });
  } catch (err) {
    const cause = (err as Error & { cause?: Error }).cause;
    throw new Error(`cannot reach ${redactUrl(args.url!)}: ${(cause ?? (err as Error)).message}`, {
      cause: err,
    });
  }
  if (!res.ok || !res.body) throw new Error(await refusal(res));

  const total = Number(res.headers.get('content-length') ?? Number.NaN);
  let bytes = 0;
  if (Number.isSafeInteger(total)) progress.start(total);
  await pipeline(
    Readable.fromWeb(res.body as ReadableStream<Uint8Array>),
    async function* count(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        bytes += chunk.length;
        progress.update(bytes);
        yield chunk;
      }
    },
    createWriteStream(file),
  );
  return bytes;
}

// The store's error body is `{ code, message }`; anything else is shown as it came.
async function refusal(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  let detail = text.slice(0, 500);
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    if (body.message) detail = body.code ? `${body.code}: ${body.message}` : body.message;
  } catch {
    // Not JSON (a proxy's page, say): the raw text is the best explanation there is.
  }
  return `the store answered ${res.status}${detail ? ` (${detail})` : ''}`;
}
