/**
 * Builds the editor, starts a fake "generic webhook" receiver (the outside world the publish node
 * posts to) and the real Gridflow server on a free port with a fresh embedded data directory in a
 * temp folder. Tests read E2E_BASE_URL (and E2E_LINKEDIN_URL, the fake LinkedIn API).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync, mkdirSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function waitFor(url: string, ms: number, proc: ChildProcess) {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = `HTTP ${r.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`server not ready at ${url}: ${last}`);
}

/**
 * A fake LinkedIn API (the outside world): `POST /rest/posts` answers 201 with the post URN in
 * `x-restli-id`, like LinkedIn's Posts API. The server is pointed at it with
 * GRIDFLOW_PLATFORM_LINKEDIN_URL, so the real LinkedIn connector runs unchanged.
 */
function startReceiver(): Promise<{ server: Server; url: string; posts: unknown[] }> {
  const posts: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url?.startsWith('/rest/posts')) {
        if (!/^Bearer \S+/.test(String(req.headers.authorization ?? ''))) {
          res.writeHead(401, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ status: 401, message: 'Empty oauth2 access token' }));
          return;
        }
        try {
          posts.push(JSON.parse(body || 'null'));
        } catch {
          posts.push(body);
        }
        res.writeHead(201, { 'x-restli-id': `urn:li:share:${7000 + posts.length}` });
        res.end();
        return;
      }
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ status: 404, message: 'not found' }));
    });
  });
  const fixedPort = Number(process.env.E2E_FAKE_LINKEDIN_PORT ?? 0);
  return new Promise((resolve) => server.listen(fixedPort, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, posts })));
}

export default async function globalSetup() {
  mkdirSync(join(root, 'e2e/artifacts'), { recursive: true });
  if (process.env.E2E_SKIP_BUILD !== '1') execFileSync('npm', ['run', 'build', '-w', '@gridflow/editor'], { cwd: root, stdio: 'inherit' });

  const receiver = await startReceiver();
  process.env.E2E_LINKEDIN_URL = receiver.url;

  if (process.env.E2E_BASE_URL) {
    // An already running server (development): it must use E2E_FAKE_LINKEDIN_PORT's fake API.
    return async () => receiver.server.close();
  }

  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'gridflow-e2e-'));
  const baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    GRIDFLOW_DATA_DIR: join(dataDir, 'data'),
    GRIDFLOW_PUBLIC_URL: baseUrl,
    GRIDFLOW_PLATFORM_LINKEDIN_URL: receiver.url,
    GRIDFLOW_ENCRYPTION_KEY: 'e2e'.padEnd(64, '0'),
    GRIDFLOW_SESSION_SECRET: 'e2e-session-secret-that-is-long-enough-1234',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  delete env.DATABASE_URL;
  delete env.REDIS_URL;

  // The real entry point when it exists (npm start → scripts/start.mjs → server/src/main.ts);
  // before that, the editor's development server (server/src/app.ts via its harness).
  let args: string[];
  let mode: string;
  if (existsSync(join(root, 'scripts/start.mjs'))) {
    args = ['scripts/start.mjs'];
    mode = 'npm start (scripts/start.mjs)';
  } else if (existsSync(join(root, 'server/src/main.ts'))) {
    args = ['--no-node-snapshot', '--import', 'tsx', 'server/src/main.ts'];
    mode = 'server/src/main.ts';
  } else {
    args = ['--no-node-snapshot', '--import', 'tsx', 'editor/scripts/dev-server.ts'];
    mode = 'editor/scripts/dev-server.ts (server main.ts missing)';
  }
  const log = openSync(join(dataDir, 'server.log'), 'a');
  const proc = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', log], detached: false });
  let url = baseUrl;
  proc.stdout?.on('data', (b: Buffer) => {
    const m = /GRIDFLOW_URL=(\S+)/.exec(b.toString());
    if (m) url = m[1]!;
  });
  console.log(`[e2e] starting ${mode} on ${baseUrl}, data in ${dataDir}`);
  // The dev server picks its own port and prints it.
  const deadline = Date.now() + 120_000;
  while (mode.startsWith('editor/') && url === baseUrl && Date.now() < deadline) await new Promise((r) => setTimeout(r, 300));
  await waitFor(`${url}/healthz`, 120_000, proc);
  process.env.E2E_BASE_URL = url;
  process.env.E2E_SERVER_MODE = mode;

  return async () => {
    receiver.server.close();
    proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1500));
    if (proc.exitCode === null) proc.kill('SIGKILL');
    if (!process.env.E2E_KEEP_DATA) rmSync(dataDir, { recursive: true, force: true });
  };
}
