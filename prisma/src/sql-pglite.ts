/** SqlClient over one PGlite instance (embedded mode). */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { SqlClient, SqlExecutor, SqlResult } from './sql.js';

function executor(
  q: Pick<PGlite, 'query' | 'exec'> | Pick<Transaction, 'query' | 'exec'>,
): SqlExecutor {
  return {
    async query<T>(text: string, params?: unknown[]): Promise<SqlResult<T>> {
      const res = await q.query<T>(text, params);
      // pg semantics: rows affected for DML, rows returned for SELECT.
      return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
    },
    async exec(script: string): Promise<void> {
      await q.exec(script);
    },
  };
}

export function createPgliteSqlClient(db: PGlite): SqlClient {
  const base = executor(db);
  return {
    ...base,
    // PGlite's own transaction: it holds PGlite's transaction lock, so Prisma and other callers
    // on the same instance wait instead of interleaving statements into this transaction.
    transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      return db.transaction((tx) => fn(executor(tx)));
    },
  };
}
