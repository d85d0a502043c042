/**
 * HTTP basic auth for the HTTP receiver, as ClusterCockpit's receiver configures it
 * (`username`, `password`). Credentials are compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { createError } from '../../../core/errors.ts';

/** Tells the error answer to ask for basic credentials. */
const SCHEME = { scheme: 'Basic' };

/** Builds an onRequest check for one user; resolves for matching credentials. */
export function basicAuth(username: string, password: string) {
  const expected = digest(`${username}:${password}`);
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization;
    const m = typeof header === 'string' ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
    if (!m) {
      throw createError('CCES_ERR_AUTH_MISSING', 'this receiver needs HTTP basic auth', SCHEME);
    }
    const given = digest(Buffer.from(m[1]!, 'base64').toString('utf8'));
    // Digests of equal length make the comparison independent of where the texts differ.
    if (!timingSafeEqual(given, expected)) {
      throw createError('CCES_ERR_AUTH_INVALID', 'wrong username or password', SCHEME);
    }
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
