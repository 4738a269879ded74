/**
 * The plain-SQL interface used on the runtime's hot path (claiming and completing steps), over the
 * same database Prisma uses: a `pg` Pool for PostgreSQL, the PGlite instance when embedded.
 */
export interface SqlResult<T> {
  rows: T[];
  rowCount: number;
}

export interface SqlExecutor {
  /** Parameterised query: `$1, $2, …` placeholders. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<T>>;
}

export interface SqlClient extends SqlExecutor {
  /** Runs `fn` in one transaction (BEGIN … COMMIT, ROLLBACK on throw). */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}
