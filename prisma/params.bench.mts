import { readFileSync, readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { createPgliteSqlClient } from '/work/main/prisma/src/sql-pglite.ts';
const snap = '/tmp/' + readdirSync('/tmp').find((f) => f.startsWith('gridflow-pglite-') && f.endsWith('.tar'));
const { text, params } = JSON.parse(readFileSync('/tmp/stmt.json', 'utf8'));
const V: Record<string, string[]> = {
  base: [],
  fpwOff: ['-c', 'full_page_writes=off'],
  minimal: ['-c', 'full_page_writes=off', '-c', 'wal_level=minimal', '-c', 'max_wal_senders=0'],
  noStats: ['-c', 'full_page_writes=off', '-c', 'track_counts=off'],
};
const dbs: Record<string, ReturnType<typeof createPgliteSqlClient>> = {};
for (const [k, extra] of Object.entries(V)) {
  const pg = await PGlite.create(`/tmp/pgl-${k}-${randomUUID()}`, { extensions: { vector }, loadDataDir: new Blob([readFileSync(snap)]), startParams: [...PGlite.defaultStartParams, ...extra] });
  const sql = createPgliteSqlClient(pg);
  const ws = params[1], grid = params[33], ver = params[34];
  await sql.query(`INSERT INTO workspaces (id, name, slug, updated_at) VALUES ($1, 'w', 'w', now())`, [ws]);
  await sql.query(`INSERT INTO grids (id, workspace_id, name, document, updated_at) VALUES ($1, $2, 'g', '{}', now())`, [grid, ws]);
  await sql.query(`INSERT INTO grid_versions (id, workspace_id, grid_id, number, document) VALUES ($1, $2, $3, 1, '{}')`, [ver, ws, grid]);
  console.log(k, (await sql.query('SHOW full_page_writes')).rows, (await sql.query('SHOW wal_level')).rows);
  dbs[k] = sql;
}
async function run(sql: ReturnType<typeof createPgliteSqlClient>, n: number) {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const id = randomUUID();
    await sql.query(text, params.map((v: unknown) => (typeof v === 'string' ? v.replaceAll(params[0], id) : v)));
  }
  const c = process.cpuUsage(t0);
  return (c.user + c.system) / n;
}
const res: Record<string, number[]> = {};
for (let r = 0; r < 15; r++) for (const k of Object.keys(V)) (res[k] ??= []).push(await run(dbs[k]!, 300));
for (const [k, v] of Object.entries(res)) { v.sort((a, b) => a - b); console.log(k.padEnd(10), 'cpu µs/stmt min', v[0]!.toFixed(0), 'median', v[7]!.toFixed(0)); }
