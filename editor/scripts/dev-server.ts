/**
 * Development only: the real Gridflow app (server/src/app.ts through its test harness) on a fresh
 * database (PostgreSQL by default, DEV_DB=pglite for embedded), with an embedded engine, serving editor/dist. Used while server/src/main.ts
 * does not exist yet. Prints the URL. Usage: node --no-node-snapshot --import tsx scripts/dev-server.ts
 */
import { fileURLToPath } from 'node:url';
import { startTestServer } from '../../server/src/testing/harness.js';

const dist = fileURLToPath(new URL('../dist', import.meta.url));
const extra: Record<string, unknown> = {};
try {
  const t = await import('@gridflow/templates');
  const load = (t as Record<string, unknown>).loadTemplates as (() => unknown) | undefined;
  if (load) extra.templates = await load();
} catch (e) {
  console.error('templates not loaded:', (e as Error).message);
}
const server = await startTestServer({ kind: (process.env.DEV_DB as 'postgres' | 'pglite') ?? 'postgres', engine: true, options: { editorDist: dist }, deps: extra as never });
console.log(`GRIDFLOW_URL=${server.url}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
process.on('SIGINT', () => void server.close().then(() => process.exit(0)));
