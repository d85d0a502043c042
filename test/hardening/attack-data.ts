/**
 * Hostile values for the attack suite: SQL injection strings stored as data, the records
 * built from them, and forged JWTs.
 */
import { createHmac } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { encode } from '../../core/lineproto/index.ts';
import type { Message } from '../../core/message.ts';

/** SQL fragments aimed at SQLite, Postgres and DuckDB, and LIKE/JSON-path wildcards. */
export const INJECTIONS = [
  `' OR '1'='1`,
  `'; DROP TABLE events; --`,
  `" OR ""="`,
  `1) OR (1=1`,
  `%' --`,
  `\\'; DELETE FROM events; --`,
  `$1`,
  `?`,
  `*/ OR 1=1 /*`,
  `events"; DROP TABLE "events`,
  `'||(SELECT sqlite_version())||'`,
  `' UNION SELECT name, sql FROM sqlite_master --`,
  `_%`,
  `%`,
  `'); ATTACH DATABASE '/tmp/cces-pwned.db' AS x; --`,
  `$.a') OR 1=1 --`,
  `"] OR 1=1 --`,
  `'::text; SELECT pg_sleep(5); --`,
  `x\u0000y`,
  `;COPY events TO '/tmp/cces-pwned.csv'`,
];

/** One hostile event: everything it was written with, to compare the answers with. */
export interface HostileRecord {
  id: number;
  inj: string;
  name: string;
  cluster: string;
  hostname: string;
  tagKey: string;
  payload: string;
  line: string;
}

/** A valid tag key or value never holds NUL; the decoder refuses it, which is tested apart. */
const safe = (s: string) => s.replace(/\u0000/g, '0');

/** One event per injection string: in its name, cluster, hostname, a tag key and value. */
export function hostileRecords(baseSeconds: number): HostileRecord[] {
  return INJECTIONS.map((raw, id) => {
    const inj = safe(raw);
    // A cluster name may hold anything but a comma (cluster filters split at commas; a
    // write naming such a cluster is refused, which write.test.ts shows).
    const cluster = inj.replaceAll(',', ' ');
    const payload = JSON.stringify({ jobId: inj, id, note: inj });
    const msg: Message = {
      name: inj,
      tags: { cluster, hostname: inj, [`k${inj}`]: inj },
      fields: { event: payload },
      time: BigInt(baseSeconds + id) * 1_000_000_000n,
    };
    return {
      id,
      inj,
      name: inj,
      cluster,
      hostname: inj,
      tagKey: `k${inj}`,
      payload,
      line: encode(msg, 's'),
    };
  });
}

/** The key pair of the test, the config value of its public key, and token makers. */
export interface TokenKit {
  publicKeyBase64: string;
  valid: string;
  forged: Record<string, string>;
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A valid EdDSA token and every kind of forged one. */
export async function makeTokens(): Promise<TokenKit> {
  const good = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const other = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const x = (await exportJWK(good.publicKey)).x!;
  const rawPublic = Buffer.from(x, 'base64url');
  const publicKeyBase64 = rawPublic.toString('base64');
  const claims = { sub: 'attacker', roles: ['admin', 'api'] };
  const sign = (key: CryptoKey, exp: number | string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).setExpirationTime(exp).sign(key);
  const hs256 = (secret: Buffer | string) => {
    const input = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url(claims)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const noneBody = `${b64url(claims)}`;
  return {
    publicKeyBase64,
    valid: await sign(good.privateKey, '1h'),
    forged: {
      'alg none': `${b64url({ alg: 'none', typ: 'JWT' })}.${noneBody}.`,
      'alg NONE, kept signature': `${b64url({ alg: 'NONE' })}.${noneBody}.AAAA`,
      'HS256 with the raw public key': hs256(rawPublic),
      'HS256 with the base64 public key': hs256(publicKeyBase64),
      'HS256 with the JWK x': hs256(x),
      'EdDSA with another key': await sign(other.privateKey, '1h'),
      expired: await sign(good.privateKey, Math.floor(Date.now() / 1000) - 60),
      'malformed two parts': 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0',
      'malformed garbage': 'not-a-jwt-at-all-3b8f0c1d',
      'header only': `${b64url({ alg: 'EdDSA' })}..`,
      'huge token': `${b64url({ alg: 'EdDSA' })}.${'A'.repeat(8000)}.${'B'.repeat(86)}`,
    },
  };
}
