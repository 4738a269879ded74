/**
 * The plain-SQL interface used on the runtime's hot path (claiming and completing steps), over the
 * same database Prisma uses: a `pg` Pool for PostgreSQL, the PGlite instance when embedded.
 *
 * Portability rules (both implementations behave the same when these are followed):
 * - Table and column names are snake_case (see prisma/README.md): `execution_steps.available_at`.
 * - Pass JSON values as `JSON.stringify(x)` with a `$n::jsonb` cast (pg would turn a JS array into
 *   a PostgreSQL array literal, not JSON). Text arrays: pass a JS array with `$n::text[]`.
 * - Results: `jsonb` → parsed value, `timestamptz` → Date, `int8`/`count(*)` → number (bigint when
 *   outside the safe-integer range), `numeric` → string, `text[]` → string[].
 * - Inside `transaction(fn)` use only the `tx` executor: on PGlite (one connection) any query on
 *   the outer client or on Prisma waits until the transaction ends, so it would deadlock.
 */
export interface SqlResult<T> {
  rows: T[];
  rowCount: number;
}

export interface SqlExecutor {
  /** Parameterised query: `$1, $2, …` placeholders. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<T>>;
  /**
   * Runs a script of several statements without parameters (migrations). Both built-in clients
   * have it; optional so that test fakes need not.
   */
  exec?(script: string): Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  /** Runs `fn` in one transaction (BEGIN … COMMIT, ROLLBACK on throw). */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}
