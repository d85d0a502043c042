/**
 * Request bodies: raw bytes (or JSON) whatever the content type, and gzip or deflate bodies
 * decompressed with a limit, so a small compressed "bomb" is refused instead of filling
 * memory.
 */
import { gunzip, inflate, inflateRaw, type ZlibOptions } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { createError } from '../../../core/errors.ts';

type Unzip = (buf: Buffer, opts: ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => void;

// HTTP's deflate is zlib-wrapped (RFC 9110), but some clients send raw deflate. A zlib
// stream opens with a header: method 8 in the low nibble, the first two bytes a multiple of 31.
const inflateEither: Unzip = (buf, opts, cb) => {
  const zlib = buf.length >= 2 && (buf[0]! & 0x0f) === 8 && buf.readUInt16BE(0) % 31 === 0;
  (zlib ? inflate : inflateRaw)(buf, opts, cb);
};

const DECODERS: Record<string, Unzip> = { gzip: gunzip, 'x-gzip': gunzip, deflate: inflateEither };

/**
 * Makes every content type arrive as a Buffer in the given (encapsulated) Fastify context.
 * Writers send line protocol as text/plain, application/octet-stream, form-encoded (curl's
 * default) or nothing at all; the body is never interpreted by its content type.
 */
export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}

/**
 * Makes every content type arrive parsed as JSON in the given (encapsulated) Fastify context,
 * as the original's JSON routes read them: curl -d sends a form type, others send text/plain.
 * A body that is not JSON is a `CCES_ERR_QUERY_INVALID` (400) naming the parse error;
 * `transform` rewrites a parsed body before validation.
 */
export function acceptJsonBodies(
  app: FastifyInstance,
  transform: (body: unknown) => unknown = (body) => body,
): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, transform(JSON.parse(body as string)));
    } catch (err) {
      const message = `the body is not JSON: ${(err as Error).message}`;
      done(createError('CCES_ERR_QUERY_INVALID', message, {}, err));
    }
  });
}

/**
 * Returns the body's bytes after `Content-Encoding` is undone. Throws
 * `CCES_ERR_HTTP_BODY_TOO_LARGE` when the decompressed body passes `limit` bytes (the
 * message names `limitKey`, the config key that sets it, when given),
 * `CCES_ERR_HTTP_BODY_INVALID` for broken compressed data (deflate may be zlib-wrapped or
 * raw) and
 * `CCES_ERR_HTTP_UNSUPPORTED_ENCODING` for encodings other than gzip, deflate and identity.
 */
export async function decodeBody(
  body: Buffer | undefined,
  encoding: string | undefined,
  limit: number,
  limitKey?: string,
): Promise<Buffer> {
  const raw = body ?? Buffer.alloc(0);
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return raw;

  const decode = DECODERS[enc];
  if (decode === undefined) {
    throw createError(
      'CCES_ERR_HTTP_UNSUPPORTED_ENCODING',
      `Content-Encoding "${enc}" is not supported; send gzip, deflate or an uncompressed body`,
      { encoding: enc },
    );
  }
  return new Promise((resolve, reject) => {
    decode(raw, { maxOutputLength: limit }, (err, out) => {
      if (err === null) return resolve(out);
      reject(decodeFailure(err, enc, limit, limitKey));
    });
  });
}

function decodeFailure(err: Error, enc: string, limit: number, limitKey?: string) {
  if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
    const max = limitKey === undefined ? `${limit} bytes` : `${limitKey} (${limit} bytes)`;
    return createError(
      'CCES_ERR_HTTP_BODY_TOO_LARGE',
      `the ${enc} body decompresses to more than ${max}`,
      { limit, encoding: enc },
      err,
    );
  }
  return createError(
    'CCES_ERR_HTTP_BODY_INVALID',
    `the body is not valid ${enc} data: ${err.message}`,
    { encoding: enc },
    err,
  );
}
