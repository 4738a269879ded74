/**
 * The two workloads, identical for every system. Only 127.0.0.1 is ever targeted; every loop is
 * bounded in count and in time.
 */
import { isDeepStrictEqual } from 'node:util';
import autocannon from 'autocannon';
import { HOST, cpuDelta, cpuSnapshot, httpJson, sleep } from './proc.js';

export const W1_BODY = { n: 21, text: 'hello' } as const;
export const W1_EXPECTED = { n2: 42, len: 5, upper: 'HELLO' } as const;

/** Measures the system's CPU time over the measured phase only. */
export interface CpuMeter {
  start(): Promise<void>;
  /** CPU seconds (user + system) since start(), in all and by process. */
  stop(): Promise<{ total: number; by: Record<string, number> }>;
}

export interface W1Options {
  connections: number;
  warmupSec: number;
  durationSec: number;
}

export interface W1Result {
  workload: 'W1';
  rps: number;
  p50_ms: number;
  p99_ms: number;
  mean_ms: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  mismatches: number;
  connections: number;
  duration_s: number;
  /** CPU seconds the system under test used during the measured 10 s (all its processes). */
  cpu_s: number;
  cpu_by_process: Record<string, number>;
  cpu_ms_per_req: number;
}

function assertLoopback(url: string) {
  if (!url.startsWith(`http://${HOST}:`)) throw new Error(`refusing to load a non-loopback URL: ${url}`);
}

/** One request, the JSON compared, before anything is measured. */
export async function checkW1(url: string): Promise<void> {
  let res = await httpJson(url, { body: W1_BODY, timeoutMs: 15_000 });
  // A system still (re)registering its webhooks right after it said it was ready (seen once with
  // n8n on its very first start after install: one call answered, the next 404) gets 10 s more.
  for (let i = 0; i < 20 && (res.status === 404 || res.status === 503); i++) {
    await new Promise((r) => setTimeout(r, 500));
    res = await httpJson(url, { body: W1_BODY, timeoutMs: 15_000 });
  }
  if (res.status !== 200 || !isDeepStrictEqual(res.body, W1_EXPECTED)) {
    throw new Error(
      `W1 correctness check failed at ${url}: HTTP ${res.status} ${res.text.slice(0, 300)} ` +
        `(expected ${JSON.stringify(W1_EXPECTED)})`,
    );
  }
}

/** Whether a W1 answer's body is the expected JSON (any key order and spacing). */
function w1BodyOk(body: string): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(body), W1_EXPECTED);
  } catch {
    return false;
  }
}

type CannonResult = autocannon.Result & { mismatches?: number };

function cannon(
  opts: autocannon.Options,
  hardLimitMs: number,
  onResponse?: (client: unknown, status: number) => void,
): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    const inst = autocannon(opts, (err, result) => {
      clearTimeout(timer); // called asynchronously, after `timer` is set below
      if (err) reject(err);
      else resolve(result as CannonResult);
    });
    if (onResponse) inst.on('response', onResponse);
    // Belt and braces: autocannon stops on its own; this bounds it even if a system hangs.
    const timer = setTimeout(() => inst.stop(), hardLimitMs);
  });
}

/** W1's POST at `connections` for `durationSec` (answers checked when `verify`). */
function w1Load(url: string, connections: number, durationSec: number, verify: boolean): Promise<CannonResult> {
  assertLoopback(url);
  return cannon(
    {
      url,
      method: 'POST',
      connections,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(W1_BODY),
      timeout: 30,
      duration: durationSec,
      ...(verify ? { verifyBody: w1BodyOk } : {}),
    } as autocannon.Options,
    (durationSec + 60) * 1000,
  );
}

export async function runW1(url: string, o: W1Options, meter: CpuMeter): Promise<W1Result> {
  await w1Load(url, o.connections, o.warmupSec, false);
  await meter.start();
  const r = await w1Load(url, o.connections, o.durationSec, true);
  const cpu = await meter.stop();
  return {
    workload: 'W1',
    rps: round(r.requests.total / r.duration),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    mean_ms: round(r.latency.mean),
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    mismatches: r.mismatches ?? 0,
    connections: o.connections,
    duration_s: round(r.duration),
    cpu_s: cpu.total,
    cpu_by_process: cpu.by,
    cpu_ms_per_req: r.requests.total ? round((cpu.total * 1000) / r.requests.total) : 0,
  };
}

/** A system taking part in paired turns: its webhook and how to read its processes' CPU time. */
export interface TurnTarget {
  url: string;
  /** CPU time used by the system's processes so far (cpuSnapshot). */
  cpu(): Promise<ReturnType<typeof cpuSnapshot>>;
}

export interface TurnsResult {
  requests: number;
  seconds: number;
  /** Errors, timeouts, non-2xx answers and wrong bodies. */
  errors: number;
  rps: number;
  /** The highest p99 latency of any one turn. */
  worst_turn_p99_ms: number;
  cpu_by_process: Record<string, number>;
  cpu_us_per_request: number;
  /** CPU seconds the OTHER systems used during this one's turns (idle instances should use ~0). */
  others_cpu_s: number;
}

/**
 * W1's load on several running systems in alternating turns of `sliceSec` (each order reversed
 * every other turn), after a warm-up of each. The machine's speed drifts by tens of per cent from
 * minute to minute here, and systems measured one after another minutes apart get different
 * machines; in turns a few seconds long, every system meets the same drift.
 */
export async function runW1Turns(
  targets: TurnTarget[],
  o: { connections: number; warmupSec: number; turns: number; sliceSec: number },
): Promise<TurnsResult[]> {
  for (const t of targets) assertLoopback(t.url);
  for (const t of targets) await w1Load(t.url, o.connections, o.warmupSec, false);
  const acc = targets.map(() => ({ requests: 0, seconds: 0, errors: 0, p99: 0, others: 0, cpu: {} as Record<string, number> }));
  for (let i = 0; i < o.turns; i++) {
    const order = targets.map((_, j) => j);
    if (i % 2) order.reverse();
    for (const j of order) {
      const t = targets[j]!;
      const before = await Promise.all(targets.map((x) => x.cpu()));
      const r = await w1Load(t.url, o.connections, o.sliceSec, true);
      const after = await Promise.all(targets.map((x) => x.cpu()));
      const d = cpuDelta(before[j]!, after[j]!);
      const a = acc[j]!;
      for (let k = 0; k < targets.length; k++) if (k !== j) a.others += cpuDelta(before[k]!, after[k]!).total;
      a.requests += r.requests.total;
      a.seconds += r.duration;
      a.errors += r.errors + r.timeouts + r.non2xx + (r.mismatches ?? 0);
      a.p99 = Math.max(a.p99, r.latency.p99);
      for (const [k, v] of Object.entries(d.by)) a.cpu[k] = (a.cpu[k] ?? 0) + v;
    }
  }
  return acc.map((a) => {
    const total = Object.values(a.cpu).reduce((x, y) => x + y, 0);
    return {
      requests: a.requests,
      seconds: round(a.seconds),
      errors: a.errors,
      rps: round(a.requests / a.seconds),
      worst_turn_p99_ms: a.p99,
      cpu_by_process: Object.fromEntries(Object.entries(a.cpu).map(([k, v]) => [k, round(v)])),
      cpu_us_per_request: a.requests ? Math.round((total * 1e6) / a.requests) : 0,
      others_cpu_s: round(a.others),
    };
  });
}

export interface W3Options {
  runs: number;
  connections: number;
  /** Bound on the whole burst: sending the calls and waiting for the store to show them finished. */
  completeTimeoutSec: number;
}

export interface W3Result {
  workload: 'W3';
  runs: number;
  accepted: number;
  completed: number;
  failed: number;
  runs_per_s: number;
  seconds: number;
  accept_seconds: number;
  accept_rps: number;
  /** Latency of the webhook calls (accept only). */
  accept_p50_ms: number;
  accept_p99_ms: number;
  errors: number;
  non2xx: number;
  timed_out: boolean;
  cpu_s: number;
  cpu_by_process: Record<string, number>;
  cpu_ms_per_run: number;
}

export interface StoreCount {
  /** Runs finished successfully. */
  completed: number;
  /** Runs finished in error (counted as done for the end of the measurement, reported apart). */
  failed: number;
}

/**
 * Fires `runs` webhook calls (the system answers at once) with `connections` in flight, then
 * polls the system's own store until `runs` more runs are finished than before the burst.
 */
export async function runW3(
  url: string,
  count: () => Promise<StoreCount>,
  o: W3Options,
  meter: CpuMeter,
  unfinished?: () => Promise<number>,
): Promise<W3Result> {
  assertLoopback(url);
  const base = await count();
  await meter.start();
  const t0 = performance.now();
  // autocannon reports the end of an `amount` run on its next 1 s tick: the time of the last
  // answer is taken from its response events, and the store is polled from then on.
  let answered = 0;
  let ok = 0;
  let lastAnswerAt = t0;
  let allAnswered: () => void = () => undefined;
  const answeredAll = new Promise<void>((resolve) => (allAnswered = resolve));
  const burst = cannon(
    {
      url,
      method: 'POST',
      connections: o.connections,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(W1_BODY),
      amount: o.runs,
      timeout: 30,
    },
    o.completeTimeoutSec * 1000,
    (_client: unknown, status: number) => {
      lastAnswerAt = performance.now();
      if (status >= 200 && status < 300) ok++;
      if (++answered >= o.runs) allAnswered();
    },
  );
  burst.catch(() => undefined); // awaited below
  await Promise.race([answeredAll, burst]);
  const tAccepted = lastAnswerAt;
  const accepted = ok;
  const deadline = t0 + o.completeTimeoutSec * 1000;
  let now = { completed: 0, failed: 0 };
  let tDone = tAccepted;
  for (;;) {
    if (unfinished) {
      // Cheap poll first; the exact count once nothing is left running.
      const left = await unfinished();
      tDone = performance.now();
      if (left > 0 && tDone <= deadline) {
        await sleep(100);
        continue;
      }
    }
    const c = await count();
    now = { completed: c.completed - base.completed, failed: c.failed - base.failed };
    if (!unfinished) tDone = performance.now();
    if (now.completed + now.failed >= accepted || performance.now() > deadline) break;
    await sleep(100);
  }
  const cpu = await meter.stop();
  const r = await burst; // its latencies and error counts (it has answered by now)
  const seconds = (Math.max(tDone, tAccepted) - t0) / 1000;
  return {
    workload: 'W3',
    runs: o.runs,
    accepted,
    completed: now.completed,
    failed: now.failed,
    runs_per_s: round(now.completed / seconds),
    seconds: round(seconds),
    accept_seconds: round((tAccepted - t0) / 1000),
    accept_rps: round(accepted / ((tAccepted - t0) / 1000)),
    accept_p50_ms: r.latency.p50,
    accept_p99_ms: r.latency.p99,
    errors: r.errors,
    non2xx: r.non2xx,
    // Cut by the time bound: not every call was sent, or not every accepted run finished.
    timed_out: accepted + r.errors + r.non2xx < o.runs || now.completed + now.failed < accepted,
    cpu_s: cpu.total,
    cpu_by_process: cpu.by,
    cpu_ms_per_run: now.completed ? round((cpu.total * 1000) / now.completed) : 0,
  };
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
