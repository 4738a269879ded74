/**
 * Prisma CLI configuration (Prisma 6.19, WebAssembly schema engine through the pg driver adapter:
 * no native engine is downloaded). Run the CLI from this folder (`npm run … -w @gridflow/db`).
 */
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

// schema.prisma's url = env("DATABASE_URL") must resolve, or every CLI command (generate too)
// falls back to downloading the native query engine and fails offline. The CLI's real connection
// is the adapter below.
process.env.DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/gridflow_dev';
// Discrete fields, not connectionString: the adapter's shadow database (migrate dev, migrate diff
// --from-migrations) overrides `database`, which pg ignores when a connectionString is given.
const u = new URL(process.env.DATABASE_URL);

export default defineConfig({
  schema: 'schema.prisma',
  engine: 'js',
  experimental: { adapter: true },
  adapter: async () =>
    new PrismaPg({
      host: u.hostname,
      port: Number(u.port || 5432),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: u.pathname.slice(1),
      // Managed PostgreSQL usually wants TLS: honour ?sslmode= like libpq does.
      ssl: ['require', 'verify-ca', 'verify-full'].includes(u.searchParams.get('sslmode') ?? '')
        ? { rejectUnauthorized: u.searchParams.get('sslmode') !== 'require' }
        : undefined,
      allowExitOnIdle: true, // else every CLI command waits pg's 10 s idle timeout before exiting
    }),
});
