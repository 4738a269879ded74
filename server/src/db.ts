/** What the server needs from @gridflow/db: Prisma for CRUD, plain SQL for hot paths. */
export type { Database as Db } from '@gridflow/db';
