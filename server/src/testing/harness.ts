/**
 * Test harness: the real app on a fresh database, listening on port 0, with helpers to sign up
 * users (cookie agents) and create API keys.
 */
import supertest from 'supertest';
import { io as connect, type Socket } from 'socket.io-client';
import type { Engine, NodeRegistry } from '@gridflow/runtime';
import { registry as nodeRegistry, describeNodeTypes } from '@gridflow/nodes';
import type { Database } from '@gridflow/db';
import { createApp, type GridflowApp } from '../app.js';
import type { AppDeps, ServerOptions } from '../deps.js';
import { createTestDb, testCipher } from './test-db.js';
import { createGridflowEngine, createNodeTester, createServices, type Services } from '../runtime-wiring.js';
import { createLogger } from '../ops/logger.js';

export interface TestServer {
  db: Database;
  gf: GridflowApp;
  url: string;
  /** A cookie-keeping agent. */
  agent(): ReturnType<typeof supertest.agent>;
  /** Signs up a new user with its own workspace; returns its logged-in agent. */
  signup(label: string): Promise<TestUser>;
  close(): Promise<void>;
}

export interface TestUser {
  agent: ReturnType<typeof supertest.agent>;
  user: { id: string; email: string; name: string };
  workspace: { id: string; name: string; slug: string };
  email: string;
  password: string;
}

let counter = 0;

export async function startTestServer(
  opts: {
    kind?: 'postgres' | 'pglite';
    /** An engine, or `true` for an engine on the test database (in-process queue, or BullMQ when `redisUrl`). */
    engine?: Engine | null | true | ((db: Database) => Promise<Engine>);
    redisUrl?: string;
    /** In-process step workers of the `true` engine (0 = an API-only server; default 4). */
    workers?: number;
    queuePrefix?: string;
    options?: Partial<ServerOptions>;
    registry?: NodeRegistry;
    deps?: Partial<AppDeps>;
    db?: Database;
    /** Platform API base URLs for the `true` engine's publish connectors (tests: a fake platform). */
    platformUrls?: Services['env']['platformBaseUrls'];
  } = {},
): Promise<TestServer> {
  const db = opts.db ?? (await createTestDb(opts.kind ?? 'postgres'));
  const cipher = testCipher();
  let services: Services | null = null;
  let engine: Engine | null;
  if (opts.engine === true) {
    services = createServices({ httpAllowPrivate: true, platformUrls: opts.platformUrls ?? {}, publicUrl: 'http://localhost:3000', openaiApiKey: undefined, openaiBaseUrl: undefined }, cipher);
    engine = createGridflowEngine({
      db,
      registry: opts.registry ?? nodeRegistry,
      services,
      workers: opts.workers ?? 4,
      log: createLogger('silent'),
      queuePrefix: opts.queuePrefix ?? `gft-${process.pid}-${Date.now()}`,
      ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}),
    });
    await engine.start();
  } else engine = typeof opts.engine === 'function' ? await opts.engine(db) : (opts.engine ?? null);
  const gf = await createApp({
    db,
    engine,
    registry: opts.registry ?? nodeRegistry,
    crypto: cipher,
    describeNodeTypes: describeNodeTypes as never,
    ...(services ? { executeNodeOnce: createNodeTester(db, opts.registry ?? nodeRegistry, services) } : {}),
    options: { deliveryWorker: false, loginRateLimit: { windowMs: 60_000, max: 1000 }, ...(opts.redisUrl ? { redisUrl: opts.redisUrl } : {}), ...opts.options },
    ...opts.deps,
  });
  const url = await gf.listen(0);
  const server: TestServer = {
    db,
    gf,
    url,
    agent: () => supertest.agent(url),
    async signup(label) {
      const agent = supertest.agent(url);
      const email = `${label}-${process.pid}-${++counter}-${Date.now()}@example.com`.toLowerCase();
      const password = 'correct horse battery';
      const res = await agent.post('/api/auth/signup').send({ email, password, name: label, workspaceName: `${label} ws` });
      if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
      return { agent, user: res.body.user, workspace: res.body.workspace, email, password };
    },
    async close() {
      await gf.close();
      if (engine) await engine.stop().catch(() => undefined);
      services?.sandbox.dispose();
      if (!opts.db) await db.close();
    },
  };
  return server;
}

/** Adds `member` to `owner`'s workspace with `role`; returns an agent of `member` acting in that workspace. */
export async function addMember(owner: TestUser, member: TestUser, role: string) {
  const r = await owner.agent.post('/api/members').send({ email: member.email, role });
  if (r.status !== 201) throw new Error(`add member failed: ${r.status} ${JSON.stringify(r.body)}`);
  return {
    get: (p: string) => member.agent.get(p).set('X-Workspace-Id', owner.workspace.id),
    post: (p: string) => member.agent.post(p).set('X-Workspace-Id', owner.workspace.id),
    put: (p: string) => member.agent.put(p).set('X-Workspace-Id', owner.workspace.id),
    patch: (p: string) => member.agent.patch(p).set('X-Workspace-Id', owner.workspace.id),
    delete: (p: string) => member.agent.delete(p).set('X-Workspace-Id', owner.workspace.id),
  };
}

/** A grid document: trigger → code. */
export function simpleDoc(triggerConfig: Record<string, unknown> = { mode: 'manual', fields: [] }, code = 'return { n2: (input.body?.n ?? input.n ?? 1) * 2 };') {
  return {
    schemaVersion: 1,
    nodes: [
      { id: 'trigger', type: 'trigger', typeVersion: 1, name: 'Trigger', position: { x: 0, y: 0 }, config: triggerConfig },
      { id: 'code', type: 'code', typeVersion: 1, name: 'Code', position: { x: 200, y: 0 }, config: { code } },
    ],
    edges: [{ id: 'e1', source: 'trigger', sourceHandle: 'out', target: 'code', targetHandle: 'in' }],
  };
}

/** A socket.io client of the live stream, resolved once connected (disconnected again if refused). */
export function openSocket(url: string, auth: Record<string, string>, extraHeaders?: Record<string, string>): Promise<Socket> {
  const s = connect(url, { transports: ['websocket'], auth, reconnection: false, forceNew: true, ...(extraHeaders ? { extraHeaders } : {}) });
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', (err) => {
      s.disconnect();
      reject(err);
    });
  });
}
