/**
 * Server-only overhead of the webhook hot path: the engine is replaced by an instant stand-in, so
 * this measures HTTP + lookup + validation + response only (compare with /healthz on the same
 * machine). `node --no-node-snapshot --import tsx server/bench/overhead.ts`
 */
import autocannon from 'autocannon';
import { startTestServer } from '../src/testing/harness.js';
import type { Engine } from '@gridflow/runtime';
let n = 0;
const stub: Engine = {
  async startRun() { return { executionId: `e${n++}` }; },
  async cancel() { return false; }, async resume() { return 'not-waiting'; },
  async waitForCompletion(id) { return { id, status: 'completed', outputs: { code: { n2: 42 } } }; },
  onEvent() { return () => {}; }, async start() {}, async stop() {},
};
const t = await startTestServer({ engine: stub, options: { hookRateLimit: { windowMs: 1000, max: 1_000_000 } } });
const u = await t.signup('bench');
const doc = { schemaVersion: 1, nodes: [
 { id: 'trigger', type: 'trigger', typeVersion: 1, name: 'Trigger', position: { x: 0, y: 0 }, config: { mode: 'webhook', path: 'w1', responseMode: 'onComplete', responseNodeId: 'code' } },
 { id: 'code', type: 'code', typeVersion: 1, name: 'Code', position: { x: 200, y: 0 }, config: { code: 'return 1;' } }],
 edges: [{ id: 'e1', source: 'trigger', target: 'code' }] };
const g = await u.agent.post('/api/grids').send({ name: 'w1', document: doc });
const p = await u.agent.post(`/api/grids/${g.body.grid.id}/versions`).send({});
const url = `${t.url}/hooks/${p.body.webhooks[0].path}`;
const h = await autocannon({ url: `${t.url}/healthz`, connections: 16, duration: 5 });
console.log(JSON.stringify({ healthz: true, rps: h.requests.average, p50: h.latency.p50 }));
const r = await autocannon({ url, method: 'POST', connections: 16, duration: 5, headers: { 'content-type': 'application/json' }, body: '{"n":21,"text":"hello"}' });
console.log(JSON.stringify({ serverOnly: true, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx }));
await t.close(); process.exit(0);
