/**
 * SQL for values inside JSON payloads. Paths are checked against the contract's pattern
 * before they get here and are bound as parameters all the same.
 */
import type { JsonFilter } from '../../../core/contracts/storage.ts';
import { checkJsonPath } from '../../../core/analytics.ts';

/**
 * The text of the scalar at a JSON path of the payload, or NULL: booleans as `true`/`false`
 * (json_extract gives 1/0), JSON null and payloads that are not JSON as NULL (json_extract
 * would throw on them). Pushes the path parameters in placeholder order.
 */
export function jsonValueSql(path: string, params: unknown[]): string {
  params.push(checkJsonPath(path), checkJsonPath(path));
  return (
    "CASE WHEN json_valid(payload) THEN CASE json_type(payload, ?) WHEN 'true' THEN 'true'" +
    " WHEN 'false' THEN 'false' WHEN 'null' THEN NULL" +
    ' ELSE CAST(json_extract(payload, ?) AS TEXT) END END'
  );
}

/** Adds one condition per JSON filter to `where`. */
export function addJsonFilters(where: string[], params: unknown[], filters?: JsonFilter[]) {
  for (const f of filters ?? []) {
    where.push(`${jsonValueSql(f.path, params)} = ?`);
    params.push(f.value);
  }
}
