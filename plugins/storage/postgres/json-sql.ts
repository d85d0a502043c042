/**
 * Values inside JSON payloads on Postgres. Postgres 15 has no safe cast to jsonb, and a
 * payload need not be JSON, so a session-local function parses inside an exception block;
 * it lives in `pg_temp`, which needs no privilege beyond the default TEMP.
 */
import type pg from 'pg';
import { checkJsonPath } from '../../../core/analytics.ts';

const FUNCTION = `
  CREATE OR REPLACE FUNCTION pg_temp.cces_json_text(doc text, path text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE AS $f$
  BEGIN
    IF doc !~ '^[ \\t\\n\\r]*[[{]' THEN
      RETURN NULL;
    END IF;
    RETURN jsonb_path_query_first(doc::jsonb, path::jsonpath, '{}', true) #>> '{}';
  EXCEPTION WHEN others THEN
    -- Not JSON: the payload simply holds no value at the path.
    RETURN NULL;
  END $f$`;

/** Creates the session function on `client` (idempotent); call before a JSON query. */
export async function ensureJsonFunction(client: pg.ClientBase): Promise<void> {
  await client.query(FUNCTION);
}

/**
 * The text of the scalar at a checked JSON path of the payload, or NULL. The path becomes
 * strict jsonpath with quoted keys, so `$.a` on an array is NULL as on the other backends.
 */
export function jsonValueSql(path: string, param: (v: unknown) => string): string {
  const strict = `strict ${checkJsonPath(path).replace(/\.([A-Za-z_][A-Za-z0-9_]*)/g, '."$1"')}`;
  return `pg_temp.cces_json_text(payload, ${param(strict)})`;
}

/** Whether a query needs {@link ensureJsonFunction}. */
export function usesJson(sql: string): boolean {
  return sql.includes('pg_temp.cces_json_text(');
}
