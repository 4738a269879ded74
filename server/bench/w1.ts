/**
 * W1 against the server alone: sync webhook → 1 code step → response, autocannon concurrency 16.
 * `node --no-node-snapshot --import tsx server/bench/w1.ts [postgres|pglite] [seconds]`
 * Prints one JSON line. Uses a fresh test database and an in-process (embedded) engine.
 */
import autocannon from 'autocannon';
import { startTestServer } from '../src/testing/harness.js';

const kind = (process.argv[2] as 'postgres' | 'pglite' | undefined) ?? 'postgres';
const seconds = Number(process.argv[3] ?? 10);
const t = await startTestServer({ kind, engine: true, options: { hookRateLimit: { windowMs: 1000, max: 1_000_000 } } });
const u = await t.signup('bench');
const doc = {
  schemaVersion: 1,
  nodes: [
    { id: 'trigger', type: 'trigger', typeVersion: 1, name: 'Trigger', position: { x: 0, y: 0 }, config: { mode: 'webhook', path: 'w1', responseMode: 'onComplete', responseNodeId: 'code' } },
    { id: 'code', type: 'code', typeVersion: 1, name: 'Code', position: { x: 200, y: 0 }, config: { code: 'const b = input.body; return { n2: b.n * 2, len: b.text.length, upper: b.text.toUpperCase() };' } },
  ],
  edges: [{ id: 'e1', source: 'trigger', target: 'code' }],
};
const g = await u.agent.post('/api/grids').send({ name: 'w1', document: doc });
const p = await u.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({});
const url = `${t.url}/hooks/${p.body.webhooks[0].path}`;
const check = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":21,"text":"hello"}' });
const body = await check.json();
if (JSON.stringify(body) !== '{"n2":42,"len":5,"upper":"HELLO"}') throw new Error(`wrong answer: ${JSON.stringify(body)}`);
const opts = { url, method: 'POST' as const, connections: 16, headers: { 'content-type': 'application/json' }, body: '{"n":21,"text":"hello"}' };
await autocannon({ ...opts, duration: 3 }); // warm-up
const r = await autocannon({ ...opts, duration: seconds });
console.log(
  JSON.stringify({ workload: 'W1-server', db: kind, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors, non2xx: r.non2xx, load: (await import('node:os')).loadavg()[0] }),
);
await t.close();
process.exit(0);
