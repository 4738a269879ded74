/**
 * Hostile input inside real runs (PostgreSQL, the real node registry, the server's services with
 * the SSRF guard on, as in production): random expressions through the runtime's evaluator,
 * sandbox escapes written as `{{ }}` expressions in node config, and the http node aimed at
 * loopback / private / link-local / metadata addresses. Every run ends with a step error that
 * names the node, nothing reaches the local target, and the engine keeps serving runs.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { UserError } from '@gridflow/runtime/errors';
import { createSandbox } from '@gridflow/runtime/sandbox';
import { evaluateExpression, resolveTemplate } from '@gridflow/runtime/expressions';
import type { Engine } from '@gridflow/runtime';
import { registry } from '@gridflow/nodes';
import { startTestServer, type TestServer, type TestUser } from '../src/testing/harness.js';
import { createGridflowEngine, createServices, type Services } from '../src/runtime-wiring.js';
import { createLogger } from '../src/ops/logger.js';

const pos = (x: number) => ({ x, y: 0 });

describe('random expressions through the evaluator', () => {
  const sandbox = createSandbox({ poolSize: 1 });
  afterAll(() => sandbox.dispose());
  const fragments = [
    'trigger', 'nodes', 'input', 'item', 'run', '.', '[', ']', '(', ')', '+', '-', '*', '"', "'", '`', '${', '}', '{', '=>', ';', ',', '?.', '??',
    '0', '1', 'x', 'a', 'constructor', '__proto__', 'prototype', 'this', 'globalThis', 'process', 'require', 'import(', 'new ', 'Function',
    'JSON.stringify', 'Math.max', 'length', 'toString', 'valueOf', 'eval', 'await ', 'async ', 'return ', 'throw ', '/', '\\', '{{', '}}',
  ];
  const expression = fc.oneof(fc.array(fc.constantFrom(...fragments), { maxLength: 12 }).map((a) => a.join('')), fc.string({ maxLength: 40 }));
  const scope = { trigger: { a: 1, text: 'hi', list: [1, 2] }, nodes: { Code: { output: { x: 2 } } }, input: { a: 1 }, run: { id: 'r1' } };

  it('never throws anything but a UserError naming the expression; templates likewise (1,500 expressions)', async () => {
    let failed = 0;
    await fc.assert(
      fc.asyncProperty(expression, async (expr) => {
        for (const fn of [() => evaluateExpression(expr, scope as never, sandbox), () => resolveTemplate(`x {{ ${expr} }} y`, scope as never, sandbox)]) {
          try {
            await fn();
          } catch (err) {
            failed++;
            if (!(err instanceof UserError)) throw new Error(`not a UserError for ${JSON.stringify(expr)}: ${String(err)}`);
            expect(err.message.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 1500 },
    );
    console.log(`[fuzz] expressions: 1500 random expressions (x2 forms), ${failed} clean user errors`);
    // The host was not touched by anything evaluated.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  }, 180_000);
});

describe('hostile config inside real runs (SSRF guard on, as in production)', () => {
  let t: TestServer;
  let owner: TestUser;
  let services: Services;
  let target: Server;
  let targetHits = 0;
  let port = 0;

  beforeAll(async () => {
    target = createServer((_req, res) => {
      targetHits++;
      res.end('{"secret":"internal"}');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    port = (target.address() as AddressInfo).port;
    t = await startTestServer({
      engine: async (db) => {
        services = createServices({ httpAllowPrivate: false, platformUrls: {}, publicUrl: 'http://localhost', openaiApiKey: undefined, openaiBaseUrl: undefined });
        const e = createGridflowEngine({ db, registry, services, workers: 2, log: createLogger('silent'), queuePrefix: `gff-runs-${process.pid}` });
        await e.start();
        return e as Engine;
      },
    });
    owner = await t.signup('runfuzz');
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    services?.sandbox.dispose();
    await new Promise((r) => target?.close(r));
  });

  async function runDoc(nodes: unknown[], input: unknown = {}) {
    const doc = {
      schemaVersion: 1,
      nodes: [{ id: 'trigger', type: 'trigger', typeVersion: 1, name: 'Trigger', position: pos(0), config: { mode: 'manual', fields: [] } }, ...nodes],
      edges: [{ id: 'e1', source: 'trigger', sourceHandle: 'out', target: 'n', targetHandle: 'in' }],
    };
    const g = await owner.agent.post('/api/grids').send({ name: 'hostile', document: doc });
    expect(g.status).toBe(201);
    const r = await owner.agent.post(`/api/grids/${g.body.grid.id}/runs`).send({ input, version: 'draft' });
    expect(r.status).toBe(202);
    const done = await t.gf.ctx.engine!.waitForCompletion(r.body.executionId, 60_000);
    const ex = await owner.agent.get(`/api/executions/${r.body.executionId}`);
    const step = (ex.body.steps ?? ex.body.execution?.steps ?? []).find((s: { nodeId: string }) => s.nodeId === 'n');
    return { status: done?.status, step };
  }

  async function stillServing() {
    const ok = await runDoc([
      { id: 'n', type: 'transform', typeVersion: 1, name: 'Echo', position: pos(200), config: { operations: [{ op: 'set', path: 'ok', value: '{{ trigger.n * 2 }}' }] } },
    ], { n: 21 });
    expect(ok.status).toBe('completed');
    expect(ok.step.output).toMatchObject({ ok: 42 });
  }

  const SSRF = [
    () => `http://127.0.0.1:${port}/`,
    () => `http://localhost:${port}/admin`,
    () => `http://[::1]:${port}/`,
    () => `http://127.1:${port}/`,
    () => `http://2130706433:${port}/`,
    () => `http://0x7f000001:${port}/`,
    () => `http://[::ffff:127.0.0.1]:${port}/`,
    () => 'http://169.254.169.254/latest/meta-data/',
    () => 'http://10.0.0.1/',
    () => 'http://192.168.1.1/',
    () => `http://0.0.0.0:${port}/`,
    () => `{{ 'http://127.0.0.1:' + trigger.port + '/' }}`,
  ];

  it('the http node refuses loopback, private, link-local and metadata targets in real runs; the target sees nothing', async () => {
    const outcomes: string[] = [];
    for (const url of SSRF) {
      const u = url();
      const r = await runDoc([{ id: 'n', type: 'http', typeVersion: 1, name: 'Fetch', position: pos(200), config: { method: 'GET', url: u, timeoutMs: 3000, retryOnStatus: false } }], { port });
      outcomes.push(`${u} → ${r.status}: ${String(r.step?.error?.message ?? '').slice(0, 90)}`);
      expect(r.status, u).toBe('failed');
      expect(r.step?.status).toBe('failed');
      expect(typeof r.step?.error?.message).toBe('string');
    }
    console.log(`[fuzz] SSRF in real runs:\n  ${outcomes.join('\n  ')}`);
    expect(targetHits).toBe(0);
    await stillServing();
  }, 240_000);

  const ESCAPES = [
    "this.constructor.constructor('return process')().pid",
    "(function(){ return this })().process.mainModule.require('child_process').execSync('id').toString()",
    "require('fs').readFileSync('/etc/passwd', 'utf8')",
    "import('fs')",
    "globalThis.process.env",
    "Object.prototype.polluted = 'yes'",
    "(() => { while (true) {} })()",
    "(() => { const a = []; for (;;) a.push(new Array(1e6).fill(1)); })()",
    "'x'.repeat(2 ** 29)",
    "new Promise(() => {})",
    "(async () => { for (;;) await null; })()",
    "Error.prepareStackTrace = (e, s) => s.map((f) => String(f.getFileName())); new Error().stack",
  ];

  it('sandbox escapes written as {{ }} expressions in node config are contained; the engine keeps serving', async () => {
    const outcomes: string[] = [];
    for (const expr of ESCAPES) {
      const r = await runDoc([{ id: 'n', type: 'transform', typeVersion: 1, name: 'Evil', position: pos(200), config: { operations: [{ op: 'set', path: 'v', value: `{{ ${expr} }}` }] } }]);
      const out = JSON.stringify(r.step?.output ?? null);
      outcomes.push(`${expr.slice(0, 50)} → ${r.status}: ${String(r.step?.error?.message ?? out).slice(0, 100)}`);
      expect(['failed', 'completed']).toContain(r.status);
      // Nothing of the host leaks: no pid, no environment, no file contents, no host file paths.
      expect(out).not.toMatch(/root:|uid=|PATH|node_modules|\/work\//);
      if (r.status === 'failed') expect(String(r.step?.error?.message ?? '')).toMatch(/Evil|expression|v\b/i);
    }
    console.log(`[fuzz] escapes in real runs:\n  ${outcomes.join('\n  ')}`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await stillServing();
  }, 240_000);
});
