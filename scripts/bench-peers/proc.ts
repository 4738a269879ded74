/**
 * Child-process and port helpers for the peer benchmark. Every process is started in its own
 * process group so that stopping it also stops what it spawned (n8n's task runner, npm's node).
 * Everything listens on and is reached through 127.0.0.1 only.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';

export const HOST = '127.0.0.1';

/** A port that was free a moment ago (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Last lines of stdout+stderr, for error messages. */
  tail(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

const live = new Set<Proc>();

/** Starts a long-running process in its own group, logging to `logFile`. */
export function startProc(
  name: string,
  cmd: string,
  args: string[],
  opts: SpawnOptions & { logFile: string },
): Proc {
  const log = createWriteStream(opts.logFile, { flags: 'a' });
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const onData = (buf: Buffer) => {
    log.write(buf);
    for (const l of buf.toString('utf8').split('\n')) {
      if (l.trim()) lines.push(l);
    }
    if (lines.length > 60) lines.splice(0, lines.length - 60);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code, signal) => {
      log.write(`\n[bench] ${name} exited code=${code} signal=${signal}\n`);
      lines.push(`[bench] ${name} exited code=${code} signal=${signal}`);
      resolve(code ?? (signal ? 128 : null));
    });
    child.on('error', (err) => {
      lines.push(String(err));
      resolve(-1);
    });
  });
  let stopped = false;
  const proc: Proc = {
    name,
    child,
    tail: () => lines.slice(-25).join('\n'),
    exited,
    async stop() {
      if (stopped) return exited.then(() => undefined);
      stopped = true;
      live.delete(proc);
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        killGroup(child.pid, 'SIGTERM');
        const done = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
        if (!done) killGroup(child.pid, 'SIGKILL');
        await Promise.race([exited, sleep(5_000)]);
      }
      // Children of the group that outlived their parent (e.g. a task runner).
      if (child.pid) killGroup(child.pid, 'SIGKILL');
      log.end();
    },
  };
  live.add(proc);
  return proc;
}

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    /* already gone */
  }
}

/** Stops every process this benchmark started (on exit, Ctrl-C, or a crash). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

let hooked = false;
export function installExitHooks() {
  if (hooked) return;
  hooked = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      void stopAll().finally(() => process.exit(130));
    });
  }
  process.on('exit', () => {
    for (const p of live) if (p.child.pid) killGroup(p.child.pid, 'SIGKILL');
  });
}

/** Runs a command to completion (bounded by `timeoutMs`); rejects with its output on failure. */
export async function run(
  cmd: string,
  args: string[],
  opts: SpawnOptions & { timeoutMs: number; logFile?: string },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = opts.logFile ? createWriteStream(opts.logFile, { flags: 'a' }) : null;
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString('utf8');
      log?.write(b);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const timer = setTimeout(() => {
      if (child.pid) killGroup(child.pid, 'SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out after ${opts.timeoutMs} ms\n${out.slice(-2000)}`));
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      log?.end();
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}\n${out.slice(-3000)}`));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a value other than undefined, the process dies, or time runs out. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; proc?: Proc; intervalMs?: number },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastErr: unknown;
  let dead = false;
  void opts.proc?.exited.then(() => {
    dead = true;
  });
  while (Date.now() < deadline) {
    if (dead) throw new Error(`${what}: ${opts.proc?.name} exited early\n${opts.proc?.tail()}`);
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastErr = e;
    }
    await sleep(opts.intervalMs ?? 250);
  }
  throw new Error(
    `${what}: not ready after ${opts.timeoutMs} ms (${String(lastErr ?? 'no answer')})` +
      (opts.proc ? `\n${opts.proc.tail()}` : ''),
  );
}

/** A small JSON HTTP call to 127.0.0.1 with a timeout. */
export async function httpJson(
  url: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ status: number; body: unknown; text: string; headers: Headers }> {
  if (!url.startsWith(`http://${HOST}:`)) throw new Error(`refusing non-loopback URL ${url}`);
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(init.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, text, headers: res.headers };
}

const CLK_TCK = 100; // Linux USER_HZ

/**
 * CPU time (user + system, seconds) used so far by every live process whose process group is a key
 * of `groups` (labelled with its value) or whose pid is in `pids` (labelled `extraLabel`, e.g.
 * PostgreSQL backends serving the system). Linux /proc only.
 */
export function cpuSnapshot(
  groups: Map<number, string>,
  pids: number[] = [],
  extraLabel = 'other',
): Map<number, { label: string; t: number }> {
  const out = new Map<number, { label: string; t: number }>();
  const p = new Set(pids);
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // f[0] = state (field 3), so field n is f[n - 3]: pgrp = 5, utime = 14, stime = 15.
      const pgrp = Number(f[2]);
      const pid = Number(e);
      const label = groups.get(pgrp) ?? (p.has(pid) ? extraLabel : undefined);
      if (label === undefined) continue;
      out.set(pid, { label, t: (Number(f[11]) + Number(f[12])) / CLK_TCK });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** cpuSnapshot of a benchmark round's system: its process groups plus the PostgreSQL backends serving it. */
export async function roundCpu(r: {
  groups: Map<number, string>;
  extraPids?(): Promise<number[]>;
}): Promise<ReturnType<typeof cpuSnapshot>> {
  return cpuSnapshot(r.groups, (await r.extraPids?.()) ?? [], 'postgres backends');
}

/** CPU seconds used between two snapshots, in all and by label (processes that exited in between are not counted). */
export function cpuDelta(
  before: Map<number, { label: string; t: number }>,
  after: Map<number, { label: string; t: number }>,
): { total: number; by: Record<string, number> } {
  const by: Record<string, number> = {};
  let total = 0;
  for (const [pid, { label, t }] of after) {
    const d = t - (before.get(pid)?.t ?? 0);
    total += d;
    by[label] = Math.round(((by[label] ?? 0) + d) * 100) / 100;
  }
  return { total: Math.round(total * 100) / 100, by };
}

/** The whole machine's CPU time so far, in USER_HZ ticks summed over all cores: busy and in all. */
export function machineCpu(): { busy: number; all: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const all = f.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
    return { busy: all - f[3]! - f[4]!, all };
  } catch {
    return { busy: 0, all: 0 };
  }
}
