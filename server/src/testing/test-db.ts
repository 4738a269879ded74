/** A fresh migrated database per test file (@gridflow/db's helper) and a throwaway cipher. */
import { randomBytes } from 'node:crypto';
import { createCipher, createTestDatabase, type Database } from '@gridflow/db';

export function createTestDb(kind: 'postgres' | 'pglite' = 'postgres'): Promise<Database> {
  return createTestDatabase(kind);
}

export function testCipher() {
  return createCipher(randomBytes(32).toString('hex'));
}
