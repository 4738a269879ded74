/**
 * Fault-suite harness: a fresh PostgreSQL database, a unique BullMQ prefix, an API server process
 * and step-worker processes (real `tsx` processes running fault-server-main.ts /
 * fault-worker-main.ts), the fake social platform in this process, a small cookie-keeping API
 * client, and the service controls (restart Redis / PostgreSQL, make sure both are up).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, testDatabaseUrl, type Database } from '@gridflow/db';
import { startFakePlatform, type FakePlatform } from '@gridflow/nodes/testing/index';

const here = dirname(fileURLToPath(import.meta.url));
const serverDir = join(here, '..');
export const REDIS_URL = 'redis://127.0.0.1:6379';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ services

function sh(cmd: string, args: string[], timeoutMs = 60_000) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

export function redisUp(): boolean {
  return sh('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'], 5000).out === 'PONG';
}

export function postgresUp(): boolean {
  return sh('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-t', '2'], 10_000).ok;
}

async function waitUntil(what: string, check: () => boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

export function startRedisServer() {
  return sh('redis-server', [
    '--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no',
    '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log',
  ]);
}

/** Stops Redis (nothing kept: queued jobs vanish), waits `downMs`, starts it again. */
export async function restartRedis(downMs: number) {
  sh('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave']);
  await waitUntil('Redis shutdown', () => !redisUp(), 20_000);
  await sleep(downMs);
  await ensureRedis();
}

export async function ensureRedis() {
  if (redisUp()) return;
  sh('mkdir', ['-p', '/var/lib/redis', '/var/log/redis']);
  startRedisServer();
  await waitUntil('Redis', redisUp);
}

export async function restartPostgres() {
  const r = sh('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'main', 'restart'], 120_000);
  if (!r.ok) throw new Error(`pg_ctlcluster restart failed: ${r.out}`);
  await waitUntil('PostgreSQL', postgresUp, 90_000);
}

export async function ensurePostgres() {
  if (postgresUp()) return;
  sh('pg_ctlcluster', ['--skip-systemctl-redirect', '15', 'main', 'start'], 120_000);
  await waitUntil('PostgreSQL', postgresUp, 90_000);
}

// ------------------------------------------------------------------ processes

export interface Proc {
  kind: 'server' | 'worker';
  child: ChildProcess;
  pid: number;
  url?: string;
  /** Resolves when the process exited (code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface Cluster {
  db: Database;
  databaseUrl: string;
  /** The GRIDFLOW_ENCRYPTION_KEY every process shares. */
  encryptionKey: string;
  prefix: string;
  platform: FakePlatform;
  logFile: string;
  server: Proc;
  workers: Proc[];
  startServer(): Promise<Proc>;
  startWorker(): Promise<Proc>;
  /** SIGKILL (or another signal) and wait for the exit. */
  stop(p: Proc, signal?: NodeJS.Signals): Promise<void>;
  api: ApiClient;
  logTail(lines?: number): string;
  close(): Promise<void>;
}

export async function startCluster(opts: { workers?: number; concurrency?: number; platformLatencyMs?: number } = {}): Promise<Cluster> {
  await ensurePostgres();
  await ensureRedis();
  const db = await createTestDatabase('postgres');
  const name = (await db.sql.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
  const databaseUrl = testDatabaseUrl(name);
  const prefix = `gff-${process.pid}-${randomBytes(4).toString('hex')}`;
  const platform = await startFakePlatform({ latencyMs: opts.platformLatencyMs ?? 20 });
  const logFile = join(mkdtempSync(join(tmpdir(), 'gf-faults-')), 'processes.log');
  const encryptionKey = randomBytes(32).toString('hex');
  const env = {
    // Child processes inherit this environment (PATH etc.), with the settings below on top.
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: REDIS_URL,
    GRIDFLOW_ENCRYPTION_KEY: encryptionKey,
    GRIDFLOW_PLATFORM_LINKEDIN_URL: platform.url,
    GRIDFLOW_PUBLIC_URL: 'http://gridflow.test',
    PORT: '0',
    LOG_LEVEL: 'warn',
    GRIDFLOW_DB_POOL_SIZE: '10',
  };
  const all: Proc[] = [];

  function spawnProc(kind: 'server' | 'worker'): Promise<Proc> {
    const script = join(here, kind === 'server' ? 'fault-server-main.ts' : 'fault-worker-main.ts');
    const args = ['--no-node-snapshot', '--import', 'tsx', script, '--prefix', prefix];
    if (kind === 'worker') args.push('--concurrency', String(opts.concurrency ?? 4));
    const child = spawn(process.execPath, args, { cwd: serverDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tag = `[${kind} ${child.pid}]`;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => {
        appendFileSync(logFile, `${tag} exited code=${code} signal=${signal}\n`);
        resolve({ code, signal });
      }),
    );
    child.stderr!.on('data', (d: Buffer) => appendFileSync(logFile, `${tag} ${d.toString()}`));
    return new Promise<Proc>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${tag} did not start within 90 s\n${tail(logFile, 30)}`)), 90_000);
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        for (const line of buf.split('\n').slice(0, -1)) {
          if (!line.startsWith('{"ready"')) appendFileSync(logFile, `${tag} ${line}\n`);
          if (!line.startsWith('{')) continue;
          try {
            const msg = JSON.parse(line) as { ready?: boolean; url?: string };
            if (msg.ready) {
              clearTimeout(t);
              const p: Proc = { kind, child, pid: child.pid!, exited, ...(msg.url ? { url: msg.url } : {}) };
              all.push(p);
              resolve(p);
            }
          } catch {
            /* not ours */
          }
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(t);
        reject(new Error(`${tag} exited before ready (code ${code}, signal ${signal})\n${tail(logFile, 30)}`));
      });
    });
  }

  const [server, ...workers] = await Promise.all([
    spawnProc('server'),
    ...Array.from({ length: opts.workers ?? 2 }, () => spawnProc('worker')),
  ]);
  const cluster: Cluster = {
    db,
    databaseUrl,
    encryptionKey,
    prefix,
    platform,
    logFile,
    server: server!,
    workers,
    api: new ApiClient(() => cluster.server.url!),
    async startServer() {
      cluster.server = await spawnProc('server');
      return cluster.server;
    },
    async startWorker() {
      const w = await spawnProc('worker');
      cluster.workers.push(w);
      return w;
    },
    async stop(p, signal = 'SIGKILL') {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill(signal);
      await p.exited;
      const i = cluster.workers.indexOf(p);
      if (i >= 0) cluster.workers.splice(i, 1);
    },
    logTail: (n = 40) => tail(logFile, n),
    async close() {
      for (const p of all) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(all.map((p) => p.exited));
      await platform.close().catch(() => undefined);
      await db.close().catch(() => undefined);
    },
  };
  return cluster;
}

function tail(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

// ------------------------------------------------------------------ API client

export interface ApiResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** fetch with the session cookie; the base URL is read per call (the server process may change). */
export class ApiClient {
  cookie = '';
  constructor(private readonly base: () => string) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
    const res = await fetch(this.base() + path, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
    const setCookie = res.headers.getSetCookie?.() ?? [];
    const session = setCookie.map((c) => c.split(';')[0]!).find((c) => c.startsWith('gf_session='));
    if (session) this.cookie = session;
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* keep text */
    }
    return { status: res.status, body: parsed };
  }
  get = (p: string) => this.request('GET', p);
  post = (p: string, b?: unknown) => this.request('POST', p, b ?? {});
  put = (p: string, b?: unknown, h?: Record<string, string>) => this.request('PUT', p, b ?? {}, h);

  async expect(method: string, path: string, body: unknown, status: number): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await this.request(method, path, body);
    if (r.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${r.status} ${JSON.stringify(r.body).slice(0, 500)}`);
    return r.body;
  }
}

// ------------------------------------------------------------------ grids and counts

const pos = (x: number) => ({ x, y: 0 });

/** trigger → code (makes the post text) → [approval →] publish (LinkedIn, the fake platform) → code. */
export function publishGrid(withApproval: boolean) {
  const nodes: unknown[] = [
    { id: 'trigger', type: 'trigger', typeVersion: 1, name: 'Trigger', position: pos(0), config: { mode: 'manual', fields: [] } },
    { id: 'compose', type: 'code', typeVersion: 1, name: 'Compose', position: pos(200), config: { code: "return { text: 'Gridflow fault run ' + input.tag + ' #' + input.i, i: input.i };", timeoutMs: 5000 } },
    { id: 'publish', type: 'publish', typeVersion: 1, name: 'Publish', position: pos(600), config: { platform: 'linkedin' } },
    { id: 'after', type: 'code', typeVersion: 1, name: 'After', position: pos(800), config: { code: 'return { postId: input.postId, ok: true };', timeoutMs: 5000 } },
  ];
  const edges: unknown[] = [
    { id: 'e3', source: 'publish', sourceHandle: 'main', target: 'after', targetHandle: 'in' },
  ];
  if (withApproval) {
    nodes.push({
      id: 'approve', type: 'approval', typeVersion: 1, name: 'Approve', position: pos(400),
      config: { title: 'Fault post', steps: [{ name: 'Review', approvers: { roles: ['owner'] }, required: 1 }], allowSelfApproval: true },
    });
    edges.push(
      { id: 'e1', source: 'trigger', sourceHandle: 'out', target: 'compose', targetHandle: 'in' },
      { id: 'e2a', source: 'compose', sourceHandle: 'out', target: 'approve', targetHandle: 'main' },
      { id: 'e2b', source: 'approve', sourceHandle: 'approved', target: 'publish', targetHandle: 'main' },
    );
  } else {
    edges.push(
      { id: 'e1', source: 'trigger', sourceHandle: 'out', target: 'compose', targetHandle: 'in' },
      { id: 'e2', source: 'compose', sourceHandle: 'out', target: 'publish', targetHandle: 'main' },
    );
  }
  return { schemaVersion: 1, nodes, edges, settings: {} };
}

/** Signs up and connects the LinkedIn account (the fake platform's token) through the API. */
export async function setupWorkspace(c: Pick<Cluster, 'api'>, label: string) {
  const api = c.api;
  const me = await api.expect('POST', '/api/auth/signup', {
    email: `${label}-${randomBytes(4).toString('hex')}@example.com`,
    password: 'correct horse battery',
    name: label,
    workspaceName: `${label} ws`,
  }, 201);
  await api.expect('POST', '/api/social-accounts', {
    platform: 'linkedin',
    platformAccountId: 'urn:li:organization:4242',
    username: 'acme',
    accessToken: 'test-access-token',
    refreshToken: 'test-refresh-token',
  }, 201);
  return me as { workspace: { id: string }; user: { id: string } };
}

export async function createPublishedGrid(api: ApiClient, name: string, withApproval: boolean): Promise<string> {
  const g = await api.expect('POST', '/api/grids', { name, document: publishGrid(withApproval) }, 201);
  const id = g.grid.id as string;
  await api.expect('POST', `/api/grids/${id}/versions`, {}, 201);
  return id;
}

export interface RunCounts {
  started: number;
  byStatus: Record<string, number>;
  completed: number;
  steps: number;
  completedSteps: number;
  /** (execution, node, item) keys stored more than once. */
  duplicateStepRows: number;
  /** Runs whose stored steps are not exactly the grid's nodes, each completed. */
  runsWithMissingSteps: number;
  /** The most frequent step errors (node: message), for diagnosis. */
  stepErrors: Record<string, number>;
}

export async function runCounts(db: Database, gridId: string, nodesPerRun: number): Promise<RunCounts> {
  const runs = await db.sql.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM executions WHERE grid_id = $1 GROUP BY status`,
    [gridId],
  );
  const byStatus = Object.fromEntries(runs.rows.map((r) => [r.status, r.n]));
  const steps = await db.sql.query<{ total: number; completed: number; dup: number; incomplete: number }>(
    `WITH s AS (
       SELECT s.execution_id, s.node_id, s.item_index, s.status FROM execution_steps s
         JOIN executions e ON e.id = s.execution_id WHERE e.grid_id = $1),
     k AS (SELECT execution_id, node_id, item_index, count(*) AS c FROM s GROUP BY 1, 2, 3),
     r AS (SELECT execution_id, count(*) FILTER (WHERE status = 'completed') AS done FROM s GROUP BY 1)
     SELECT (SELECT count(*) FROM s)::int AS total,
            (SELECT count(*) FROM s WHERE status = 'completed')::int AS completed,
            (SELECT count(*) FROM k WHERE c > 1)::int AS dup,
            (SELECT count(*) FROM executions e LEFT JOIN r ON r.execution_id = e.id
               WHERE e.grid_id = $1 AND coalesce(r.done, 0) <> $2)::int AS incomplete`,
    [gridId, nodesPerRun],
  );
  const s = steps.rows[0]!;
  const errs = await db.sql.query<{ k: string; n: number }>(
    `SELECT s.node_id || ': ' || coalesce(s.error->>'code', '') || ' ' || left(coalesce(s.error->>'message', s.error::text), 160) AS k, count(*)::int AS n
       FROM execution_steps s JOIN executions e ON e.id = s.execution_id
      WHERE e.grid_id = $1 AND s.error IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 5`,
    [gridId],
  );
  return {
    stepErrors: Object.fromEntries(errs.rows.map((r) => [r.k, r.n])),
    started: Object.values(byStatus).reduce((a, b) => a + b, 0),
    byStatus,
    completed: byStatus.completed ?? 0,
    steps: s.total,
    completedSteps: s.completed,
    duplicateStepRows: s.dup,
    runsWithMissingSteps: s.incomplete,
  };
}

/** Polls until every run of the grid has ended (or the deadline); returns the last counts. */
export async function waitForRuns(db: Database, gridId: string, expected: number, nodesPerRun: number, timeoutMs: number): Promise<RunCounts> {
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  for (;;) {
    let c: RunCounts | undefined;
    try {
      c = await runCounts(db, gridId, nodesPerRun);
      const open = (c.byStatus.pending ?? 0) + (c.byStatus.running ?? 0) + (c.byStatus.waiting ?? 0);
      if (c.started >= expected && open === 0) return c;
    } catch {
      /* database restarting */
    }
    if (Date.now() - lastLog > 10_000) {
      lastLog = Date.now();
      console.log(`[faults] waiting: ${JSON.stringify(c ?? 'database unreachable')}`);
    }
    if (Date.now() > deadline) {
      if (c) return c;
      throw new Error('database unreachable while waiting for runs');
    }
    await sleep(500);
  }
}

/** Posts the fake platform received for this tag: total, distinct texts, duplicates. */
export function postCounts(platform: FakePlatform, tag: string) {
  const all = platform.posts;
  const mine = all.filter((p) => p.text.startsWith(`Gridflow fault run ${tag} #`));
  const distinct = new Set(mine.map((p) => p.text)).size;
  // For each duplicated text: how many posts the account received between the first and the
  // repeat (the publish node's reconciliation lists only the account's most recent posts).
  const firstAt = new Map<string, number>();
  const duplicateGaps: Array<{ text: string; postsBetween: number; secondsBetween: number }> = [];
  all.forEach((p, i) => {
    if (!p.text.startsWith(`Gridflow fault run ${tag} #`)) return;
    const first = firstAt.get(p.text);
    if (first === undefined) firstAt.set(p.text, i);
    else
      duplicateGaps.push({
        text: p.text,
        postsBetween: all.slice(first + 1, i).filter((q) => q.target === p.target).length,
        secondsBetween: Math.round((p.at.getTime() - all[first]!.at.getTime()) / 100) / 10,
      });
  });
  return { received: mine.length, distinct, duplicates: mine.length - distinct, duplicateGaps };
}

/**
 * Starts `count` runs through the API, `concurrency` at a time, spread over about `spreadMs`.
 * Returns the execution ids accepted (202) and the other answers seen (status → count).
 */
export async function startRuns(api: ApiClient, gridId: string, tag: string, count: number, spreadMs: number, concurrency = 6) {
  const ids: string[] = [];
  const rejected: Record<string, number> = {};
  const t0 = Date.now();
  let next = 0;
  async function lane() {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      const due = t0 + (spreadMs * i) / count;
      if (due > Date.now()) await sleep(due - Date.now());
      try {
        const r = await api.post(`/api/grids/${gridId}/runs`, { input: { tag, i } });
        if (r.status === 202) ids.push(r.body.executionId);
        else rejected[r.status] = (rejected[r.status] ?? 0) + 1;
      } catch (err) {
        const k = `network:${(err as Error).name}`;
        rejected[k] = (rejected[k] ?? 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { ids, rejected, ms: Date.now() - t0 };
}
