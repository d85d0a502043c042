/**
 * Export of a time range with DuckDB's own writers (`COPY ... TO`), into a fresh file in the
 * store's export folder, the only folder the hardened instance may write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import type { ExportFile, ExportRequest } from '../../../core/contracts/storage.ts';
import { Params } from './params.ts';
import { TABLES } from './query-sql.ts';
import { hardenInstance } from './sql-sandbox.ts';

/** The exported columns, in file order; times as ns integers. */
export const EXPORT_COLUMNS =
  'time, received_at, cluster, name, hostname, type, type_id, stype, stype_id, "function",' +
  ' loglevel, job_id, tags, payload, extra';

/**
 * The `COPY` statement writing `req` to `path`, oldest first. The range is bound; the path
 * cannot be (COPY takes no parameter there), so it goes in as a quoted string literal.
 */
export function buildCopySql(req: ExportRequest, path: string): { sql: string; params: Params } {
  const p = new Params();
  const where: string[] = [];
  if (req.from !== undefined) where.push(`time >= ${p.int(req.from)}`);
  if (req.to !== undefined) where.push(`time < ${p.int(req.to)}`);
  const format = req.format === 'parquet' ? '(FORMAT parquet)' : '(FORMAT csv, HEADER true)';
  const sql =
    `COPY (SELECT ${EXPORT_COLUMNS} FROM ${TABLES[req.kind]}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY time, id) TO '${path.replace(/'/g, "''")}' ${format}`;
  return { sql, params: p };
}

/** Writes `req` to a new temp file; see Storage.exportRange in the contract. */
export async function exportRange(
  instance: DuckDBInstance,
  req: ExportRequest,
): Promise<ExportFile> {
  const root = await hardenInstance(instance);
  const dir = mkdtempSync(join(root, 'x-'));
  const path = join(dir, `${req.kind}s.${req.format}`);
  const remove = async () => rmSync(dir, { recursive: true, force: true });
  const { sql, params } = buildCopySql(req, path);
  const conn = await instance.connect();
  try {
    await conn.run(sql, params.values, params.types);
    return { path, remove };
  } catch (err) {
    await remove();
    throw err;
  } finally {
    conn.closeSync();
  }
}
