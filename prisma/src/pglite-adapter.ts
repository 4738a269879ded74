/**
 * Prisma driver adapter for PGlite: `pglite-prisma-adapter` 0.6.1 (the release for Prisma 6), with
 * its PostgreSQL errors mapped the way `@prisma/adapter-pg` 6.19 maps them.
 *
 * Why: 0.6.1 reports every database error as `{ kind: 'postgres', code }`, so the 6.19 client
 * cannot recognise e.g. a unique violation and throws a bare DriverAdapterError instead of
 * PrismaClientKnownRequestError P2002. Code that catches P2002/P2003 (idempotency keys, duplicate
 * slugs) must behave the same on PGlite as on PostgreSQL.
 */
import type { PGlite } from '@electric-sql/pglite';
import type { PgliteLike } from './sql-pglite.js';
import type { Prisma } from '@prisma/client';
import { PrismaPGlite } from 'pglite-prisma-adapter';

type AdapterFactory = NonNullable<Prisma.PrismaClientOptions['adapter']>;

interface PgErrorCause {
  kind: string;
  code?: string;
  message?: string;
  detail?: string;
  column?: string;
}

const keyFields = (detail: string | undefined) =>
  detail?.match(/Key \(([^)]+)\)/)?.[1]?.split(', ');

/** Same mapping as @prisma/adapter-pg 6.19's mapDriverError, for the codes a query can raise. */
function mapCause(c: PgErrorCause): Record<string, unknown> | undefined {
  const base = { originalCode: c.code, originalMessage: c.message };
  switch (c.code) {
    case '22001':
      return { ...base, kind: 'LengthMismatch', column: c.column };
    case '22003':
      return { ...base, kind: 'ValueOutOfRange', cause: c.message };
    case '23505': {
      const fields = keyFields(c.detail);
      return {
        ...base,
        kind: 'UniqueConstraintViolation',
        constraint: fields ? { fields } : undefined,
      };
    }
    case '23502': {
      const fields = keyFields(c.detail);
      return {
        ...base,
        kind: 'NullConstraintViolation',
        constraint: fields ? { fields } : undefined,
      };
    }
    case '23503':
      return {
        ...base,
        kind: 'ForeignKeyConstraintViolation',
        constraint: c.column ? { fields: [c.column] } : undefined,
      };
    case '40001':
      return { ...base, kind: 'TransactionWriteConflict' };
    case '42P01':
      return { ...base, kind: 'TableDoesNotExist', table: c.message?.split(' ')[1]?.split('"')[1] };
    case '42703':
      return { ...base, kind: 'ColumnNotFound', column: c.message?.split(' ')[1]?.split('"')[1] };
    default:
      return undefined;
  }
}

function remap(err: unknown): unknown {
  const e = err as { name?: string; cause?: PgErrorCause };
  if (e?.name === 'DriverAdapterError' && e.cause?.kind === 'postgres') {
    const mapped = mapCause(e.cause);
    if (mapped) e.cause = mapped as unknown as PgErrorCause;
  }
  return err;
}

type Queryable = Record<string, unknown> & {
  queryRaw(q: unknown): Promise<unknown>;
  executeRaw(q: unknown): Promise<unknown>;
  startTransaction?(...args: unknown[]): Promise<Queryable>;
};

function wrap<T extends Queryable>(q: T): T {
  const queryRaw = q.queryRaw.bind(q);
  const executeRaw = q.executeRaw.bind(q);
  q.queryRaw = (arg) => queryRaw(arg).catch((err) => Promise.reject(remap(err)));
  q.executeRaw = (arg) => executeRaw(arg).catch((err) => Promise.reject(remap(err)));
  if (q.startTransaction) {
    const start = q.startTransaction.bind(q);
    q.startTransaction = async (...args) => wrap(await start(...args));
  }
  return q;
}

/** The adapter factory to pass as `new PrismaClient({ adapter })` for a PGlite instance. */
export function createPgliteAdapter(db: PgliteLike): AdapterFactory {
  const factory = new PrismaPGlite(db as PGlite);
  const connect = factory.connect.bind(factory);
  factory.connect = async () => wrap((await connect()) as unknown as Queryable) as never;
  // 0.6.1 is typed against driver-adapter-utils 6.10; the 6.19 client drives it fine (models,
  // relations, transactions, $queryRaw and error codes are covered by the integration tests).
  return factory as unknown as AdapterFactory;
}
