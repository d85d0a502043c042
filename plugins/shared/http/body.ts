/**
 * Request bodies: raw bytes whatever the content type, and gzip or deflate bodies
 * decompressed with a limit, so a small compressed "bomb" is refused instead of filling
 * memory.
 */
import { gunzip, inflate, type InputType, type ZlibOptions } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { createError } from '../../../core/errors.ts';

type Unzip = (
  buf: InputType,
  opts: ZlibOptions,
  cb: (err: Error | null, out: Buffer) => void,
) => void;

const DECODERS: Record<string, Unzip> = { gzip: gunzip, 'x-gzip': gunzip, deflate: inflate };

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
 * Returns the body's bytes after `Content-Encoding` is undone. Throws
 * `CCES_ERR_HTTP_BODY_TOO_LARGE` when the decompressed body passes `limit` bytes (the
 * message names `limitKey`, the config key that sets it, when given),
 * `CCES_ERR_HTTP_BODY_INVALID` for broken compressed data and
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
