/**
 * Bound parameters with explicit DuckDB types. Without a type, node-api binds a bigint as
 * HUGEINT, and a BIGINT column compared with a HUGEINT is cast row by row.
 */
import { BIGINT, VARCHAR, type DuckDBType, type DuckDBValue } from '@duckdb/node-api';

/** Positional parameters in the order their `?` placeholders appear. */
export class Params {
  readonly values: DuckDBValue[] = [];
  readonly types: DuckDBType[] = [];

  /** Adds a BIGINT; returns its placeholder. */
  int(v: bigint | number): string {
    this.values.push(BigInt(v));
    this.types.push(BIGINT);
    return '?';
  }

  /** Adds a VARCHAR; returns its placeholder. */
  text(v: string): string {
    this.values.push(v);
    this.types.push(VARCHAR);
    return '?';
  }
}
