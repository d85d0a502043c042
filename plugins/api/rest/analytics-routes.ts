/**
 * The analytics routes in one place, so the server wires them with one call: counts, the
 * job view, SQL (off unless enabled) and export.
 */
import { registerCountsRoute } from './analytics.ts';
import { registerExportRoute } from './export.ts';
import { registerJobRoute } from './jobs.ts';
import { registerSqlRoute } from './sql.ts';
import type { RouteDeps } from './route-deps.ts';

/** Analytics settings of the API config. */
export interface AnalyticsOptions {
  /** `enable_sql`: serves `POST /api/v1/sql` (DuckDB only, admin role). */
  enableSql: boolean;
  /** Whether tokens are checked; without, nobody can show the admin role SQL needs. */
  authEnabled: boolean;
}

/** Registers every analytics route. */
export function registerAnalyticsRoutes(deps: RouteDeps, opts: AnalyticsOptions): void {
  registerCountsRoute(deps);
  registerJobRoute(deps);
  registerSqlRoute(deps, { enabled: opts.enableSql, authEnabled: opts.authEnabled });
  registerExportRoute(deps);
}
