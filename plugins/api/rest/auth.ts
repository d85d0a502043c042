/**
 * JWT authentication as ClusterCockpit does it: EdDSA (Ed25519) tokens checked against a
 * raw 32-byte public key given in standard base64. Every other algorithm is refused.
 */
import type { FastifyRequest } from 'fastify';
import { errors as joseErrors, importJWK, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { createError } from '../../../core/errors.ts';

/** Checks the token of a request; a no-op when the API runs without a key. */
export interface Authenticator {
  /** False when no key is configured and every request passes. */
  readonly enabled: boolean;
  /**
   * Resolves for a request with a valid token. Rejects with `CCES_ERR_AUTH_MISSING`,
   * `CCES_ERR_AUTH_INVALID`, `CCES_ERR_AUTH_EXPIRED` (401) or `CCES_ERR_AUTH_FORBIDDEN` (403).
   */
  authenticate(request: FastifyRequest): Promise<void>;
}

/** Roles that may use the API when a token lists roles at all (ClusterCockpit's names). */
const API_ROLES = new Set(['api', 'admin']);

// `Ed25519` is the fully specified name (RFC 9864) of the same algorithm as `EdDSA`.
const ALGORITHMS = ['EdDSA', 'Ed25519'];

const OPEN: Authenticator = { enabled: false, authenticate: async () => {} };

/**
 * Builds the authenticator for `jwt_public_key`. Empty means no auth. Throws
 * `CCES_ERR_AUTH_KEY_INVALID` naming `configKey` for a key that is not standard base64 of
 * 32 bytes.
 */
export async function createAuthenticator(
  publicKey: string,
  configKey = 'jwt_public_key',
): Promise<Authenticator> {
  if (publicKey.trim() === '') return OPEN;
  const key = await importKey(publicKey.trim(), configKey);
  return {
    enabled: true,
    authenticate: async (request) => {
      const token = tokenOf(request);
      checkRoles(await verify(token, key));
    },
  };
}

async function importKey(text: string, configKey: string): Promise<CryptoKey> {
  const raw = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (raw === undefined || raw.length !== 32 || raw.toString('base64') !== padded(text)) {
    throw createError(
      'CCES_ERR_AUTH_KEY_INVALID',
      `${configKey} is not a usable Ed25519 public key: expected the standard base64 of 32 raw ` +
        `bytes (44 characters), found ${raw ? `${raw.length} bytes` : 'text that is not base64'}`,
      { key: configKey, bytes: raw?.length },
    );
  }
  try {
    const jwk = { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') };
    return (await importJWK(jwk, 'EdDSA')) as CryptoKey;
  } catch (err) {
    throw createError(
      'CCES_ERR_AUTH_KEY_INVALID',
      `${configKey} is not a usable Ed25519 public key: ${(err as Error).message}`,
      { key: configKey },
      err,
    );
  }
}

function padded(text: string): string {
  return text.padEnd(text.length + ((4 - (text.length % 4)) % 4), '=');
}

/**
 * The token from `Authorization: Bearer <t>` or `X-Auth-Token: <t>`. A Bearer header with more
 * than one word after the scheme sent something, so without an X-Auth-Token it is refused as
 * malformed (`CCES_ERR_AUTH_INVALID`) rather than as missing.
 */
function tokenOf(request: FastifyRequest): string {
  const auth = request.headers.authorization;
  const words = typeof auth === 'string' ? auth.trim().split(/\s+/) : [];
  const bearer = words.length >= 2 && words[0]!.toLowerCase() === 'bearer';
  if (bearer && words.length === 2) return words[1]!;

  const x = request.headers['x-auth-token'];
  if (typeof x === 'string' && x.trim() !== '') return x.trim();
  if (bearer) {
    throw createError(
      'CCES_ERR_AUTH_INVALID',
      `the Authorization header is malformed: it holds ${words.length - 1} words after ` +
        '"Bearer", where one token is expected ("Authorization: Bearer <token>")',
      { words: words.length - 1 },
    );
  }
  throw createError(
    'CCES_ERR_AUTH_MISSING',
    'this route needs a JWT in "Authorization: Bearer <token>" or "X-Auth-Token: <token>"',
  );
}

async function verify(token: string, key: CryptoKey): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, key, { algorithms: ALGORITHMS })).payload;
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) {
      const exp = typeof err.payload.exp === 'number' ? err.payload.exp : undefined;
      const when = exp === undefined ? '' : ` at ${new Date(exp * 1000).toISOString()}`;
      throw createError(
        'CCES_ERR_AUTH_EXPIRED',
        `the token expired${when}; get a new one`,
        {},
        err,
      );
    }
    const reason = err instanceof joseErrors.JOSEError ? err.message : 'malformed token';
    throw createError(
      'CCES_ERR_AUTH_INVALID',
      `the token is refused (${reason}); only EdDSA tokens signed with the configured key pass`,
      {},
      err,
    );
  }
}

/**
 * Tokens without roles pass (as in the original); tokens with roles need `api` or `admin`.
 * A `roles` claim that is not a list (null, a string, an object) is refused, not read as none.
 */
function checkRoles(payload: JWTPayload): void {
  if (!('roles' in payload)) return;
  const roles = payload.roles;
  if (!Array.isArray(roles)) {
    throw createError(
      'CCES_ERR_AUTH_FORBIDDEN',
      'the token is valid but its "roles" claim is not a list of role names',
      { roles: roles === null ? 'null' : typeof roles },
    );
  }
  if (roles.some((r) => typeof r === 'string' && API_ROLES.has(r))) return;
  throw createError(
    'CCES_ERR_AUTH_FORBIDDEN',
    'the token is valid but has neither the "api" nor the "admin" role',
    { roles: roles.filter((r) => typeof r === 'string') },
  );
}
