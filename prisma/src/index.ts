/**
 * @gridflow/db: the Prisma schema's client, opening the embedded or PostgreSQL database,
 * migrations, configuration and secret encryption.
 */
export { PrismaClient, Prisma } from '@prisma/client';
export type * from '@prisma/client';
export { openDatabase, type Database, type OpenDatabaseOptions, type VacuumInfo } from './database.js';
export { DataDirLockedError } from './dir-lock.js';
export { applyMigrations, listMigrations, MIGRATIONS_DIR, type MigrationFile } from './migrate.js';
export { createTestDatabase, localSocketUrl, testDatabaseUrl } from './testing.js';
export type { SqlClient, SqlExecutor, SqlResult } from './sql.js';
export {
  getConfig,
  loadConfig,
  resetConfigForTests,
  ConfigError,
  REPO_ROOT,
  type Config,
  type LogLevel,
} from './config.js';
export { encrypt, decrypt, createCipher, DecryptionError, type Cipher } from './crypto.js';
export { parseKeyring, type Keyring, type KeyringEntry } from './keyring.js';
