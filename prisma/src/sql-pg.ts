/** SqlClient over a `pg` Pool (PostgreSQL). */
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { SqlClient, SqlExecutor, SqlResult } from './sql.js';

const INT8_OID = 20;

/** int8 as PGlite returns it: a number when safe, else a bigint (pg's default is a string). */
function parseInt8(value: string): number | bigint {
  const n = BigInt(value);
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(n)
    : n;
}

// Per-query type parsers, so the process-wide pg.types (also used by Prisma's adapter) stay untouched.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return parseInt8;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/**
 * Statements are prepared once per connection (named by a hash of their text): PostgreSQL then
 * skips parsing and analysis on every later execution, which is most of its CPU for the short
 * statements of the step hot path. Texts are bounded (hot-path SQL varies only by row counts);
 * past the cap, new texts run unnamed.
 */
const statementNames = new Map<string, string>();
const MAX_NAMED = 5000;
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_NAMED) {
    name = `gf_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

function executor(q: Queryable): SqlExecutor {
  return {
    async query<T>(text: string, params?: unknown[]): Promise<SqlResult<T>> {
      // Only parameterized texts: they are single statements (a text without parameters may be a
      // script of several, which only the simple protocol runs).
      const name = params?.length ? statementName(text) : undefined;
      const res = await q.query({
        text,
        values: params,
        types,
        ...(name ? { name } : {}),
      } as pg.QueryConfig);
      return { rows: res.rows as T[], rowCount: res.rowCount ?? 0 };
    },
    async exec(script: string): Promise<void> {
      await q.query(script); // no parameters: simple query protocol, several statements allowed
    },
  };
}

export function createPgSqlClient(pool: pg.Pool): SqlClient {
  const base = executor(pool);
  return {
    ...base,
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken = false;
      // A checked-out client is not covered by the pool's 'error' listener: without one, a
      // terminated backend (PostgreSQL restart, pg_terminate_backend) is an unhandled 'error'
      // event that kills the process. The failing query rejects too; the client is discarded.
      const onError = (): void => {
        broken = true;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(executor(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // connection is unusable: destroy it instead of returning it to the pool
        }
        throw err;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    },
  };
}
