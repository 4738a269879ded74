/**
 * `npm run bench:peers`: the same workloads against Node-RED, n8n and Gridflow (scaled: PostgreSQL +
 * Redis + worker processes; embedded: one process, PGlite), each on 127.0.0.1 with equivalent
 * flows, a fresh instance per workload. Prints one JSON line per system and workload on stdout,
 * then the ratios; progress goes to stderr.
 *
 *   W1 sync webhook: POST {"n":21,"text":"hello"} → code → response with the code's JSON once the run
 *      has finished. autocannon, 16 connections, 3 s warm-up, 10 s measured.
 *   W3 async burst: 5,000 webhook calls answered at once, trigger → code → code; measured until the
 *      system's own store shows every run finished.
 *
 * Options: --systems=node-red,n8n,gridflow-scaled,gridflow-embedded --workloads=W1,W3
 *   --connections=16 --warmup=3 --duration=10 --w3-runs=5000 --w3-connections=16 --w3-timeout=900
 *   --workers=2 --cache-dir=~/.cache/gridflow-peers --keep (keep the scratch folder with the logs)
 *   --profile (V8 CPU profiles of Gridflow's processes, kept in the scratch folder)
 *   --compare-with=earlier.jsonl (ratios also against result lines of an earlier run's stdout, for
 *     systems not measured in this run; the ratios line names them)
 *   --paired-turns=6 --paired-slice=2: after the runs above, W1 once more on fresh instances of every
 *     system, all running at once, in alternating turns of 2 s (6 each, after a 3 s warm-up each):
 *     one `paired` line and paired ratios. This machine's speed drifts by tens of per cent from minute
 *     to minute, and systems measured minutes apart meet different machines; in turns, the same one.
 *     0 turns: no paired phase.
 *
 * Peers are installed from the npm registry into the cache folder (outside the repository) on the
 * first run; n8n's install compiles sqlite3 and takes several minutes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultCacheDir } from './bench-peers/install.js';
import { W1_BODY, checkW1, round, runW1, runW1Turns, runW3, type TurnsResult, type W1Result, type W3Result } from './bench-peers/load.js';
import { nodeRedSystem } from './bench-peers/node-red.js';
import { n8nSystem } from './bench-peers/n8n.js';
import { gridflowSystem } from './bench-peers/gridflow.js';
import { markdownTable } from './bench-peers/table.js';
import { cpuDelta, cpuSnapshot, httpJson, machineCpu, installExitHooks, roundCpu, stopAll, waitFor } from './bench-peers/proc.js';
import type { BenchContext, Round, System, Workload } from './bench-peers/system.js';

const { values: args } = parseArgs({
  options: {
    systems: { type: 'string', default: 'node-red,n8n,gridflow-scaled,gridflow-embedded' },
    workloads: { type: 'string', default: 'W1,W3' },
    connections: { type: 'string', default: '16' },
    warmup: { type: 'string', default: '3' },
    duration: { type: 'string', default: '10' },
    'w3-runs': { type: 'string', default: '5000' },
    'w3-connections': { type: 'string', default: '16' },
    'w3-timeout': { type: 'string', default: '900' },
    workers: { type: 'string', default: '2' },
    'cache-dir': { type: 'string', default: defaultCacheDir() },
    keep: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'compare-with': { type: 'string' },
    'paired-turns': { type: 'string', default: '6' },
    'paired-slice': { type: 'string', default: '2' },
  },
});

const int = (name: string, v: string | undefined, min: number, max: number) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in ${min}..${max}`);
  return n;
};
const opts = {
  connections: int('connections', args.connections, 1, 256),
  warmupSec: int('warmup', args.warmup, 0, 60),
  durationSec: int('duration', args.duration, 1, 120),
  w3Runs: int('w3-runs', args['w3-runs'], 1, 100_000),
  w3Connections: int('w3-connections', args['w3-connections'], 1, 256),
  w3TimeoutSec: int('w3-timeout', args['w3-timeout'], 10, 1800),
  workers: int('workers', args.workers, 1, 4),
  pairedTurns: int('paired-turns', args['paired-turns'], 0, 100),
  pairedSliceSec: int('paired-slice', args['paired-slice'], 1, 60),
};

const repoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const workDir = mkdtempSync(path.join(os.tmpdir(), 'gridflow-bench-peers-'));
const log = (m: string) => process.stderr.write(`[bench:peers ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const ctx: BenchContext = { workDir, cacheDir: path.resolve(args['cache-dir']!), repoDir, log };
const emit = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

const allSystems: Record<string, () => System> = {
  'node-red': nodeRedSystem,
  n8n: n8nSystem,
  'gridflow-scaled': () => gridflowSystem({ mode: 'scaled', workers: opts.workers, profile: !!args.profile }),
  'gridflow-embedded': () => gridflowSystem({ mode: 'embedded', workers: 0, profile: !!args.profile }),
};
const systemNames = args.systems!.split(',').map((s) => s.trim()).filter(Boolean);
for (const s of systemNames) if (!allSystems[s]) throw new Error(`unknown system ${s}; known: ${Object.keys(allSystems)}`);
const workloads = args.workloads!.split(',').map((w) => w.trim().toUpperCase()) as Workload[];
for (const w of workloads) if (w !== 'W1' && w !== 'W3') throw new Error(`unknown workload ${w}`);

/**
 * Waits until a fresh instance is idle (its processes use under 10 % of a core over a second; at most
 * 30 s), so that its start-up work (module compilation, worker processes still starting) does not
 * fall into the measurement. Every system gets the same treatment.
 */
async function settle(label: string, snap: () => Promise<ReturnType<typeof cpuSnapshot>>): Promise<void> {
  const t0 = Date.now();
  let prev = await snap();
  for (;;) {
    await new Promise((res) => setTimeout(res, 1000));
    const cur = await snap();
    const used = cpuDelta(prev, cur).total;
    prev = cur;
    if (used < 0.1) {
      log(`${label}: idle after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      return;
    }
    if (Date.now() - t0 > 30_000) {
      log(`${label}: still using ${used.toFixed(2)} CPU s/s after 30 s; measuring anyway`);
      return;
    }
  }
}

/** `machine_busy_cores`: the whole machine's busy CPU over the measured phase, in cores (all processes, the load generator included). */
type Line = { system: string; version: string; store?: string; machine_busy_cores?: number; loadavg_before: number[] } & (W1Result | W3Result);
const results: Line[] = [];
/** Systems whose lines come from --compare-with. */
const compared: string[] = [];

function loadEarlier(file: string) {
  for (const l of readFileSync(file, 'utf8').split('\n')) {
    if (!l.startsWith('{')) continue;
    const o = JSON.parse(l) as { kind?: string } & Line;
    if (o.kind !== 'result' || systemNames.includes(o.system)) continue;
    results.push(o);
    if (!compared.includes(`${o.system} ${o.workload}`)) compared.push(`${o.system} ${o.workload}`);
  }
}

/** One webhook call through W3's grid, seen finished in the store: the W3 correctness check. */
async function checkW3(r: Round) {
  const before = await r.count!();
  const res = await httpJson(r.url, { body: W1_BODY, timeoutMs: 15_000 });
  if (res.status < 200 || res.status >= 300) throw new Error(`W3 check: HTTP ${res.status} ${res.text.slice(0, 300)}`);
  await waitFor(
    'W3 check run completed in the store',
    async () => ((await r.count!()).completed > before.completed ? true : undefined),
    { timeoutMs: 30_000 },
  );
}

async function main() {
  installExitHooks();
  emit({
    kind: 'env',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model,
    mem_gb: round(os.totalmem() / 2 ** 30, 1),
    loadavg: os.loadavg().map((x) => round(x)),
    options: opts,
  });
  const prepared = new Map<string, System>();
  for (const name of systemNames) {
    const sys = allSystems[name]!();
    try {
      log(`${name}: preparing`);
      await sys.prepare(ctx);
      prepared.set(name, sys);
    } catch (e) {
      emit({ kind: 'error', system: name, stage: 'prepare', error: String((e as Error).message ?? e).slice(0, 4000) });
      continue;
    }
    for (const w of workloads) {
      let r: Round | undefined;
      try {
        log(`${name} ${w}: starting a fresh instance`);
        r = await sys.startRound(w, ctx);
        let res: W1Result | W3Result;
        const round_ = r;
        let before: ReturnType<typeof cpuSnapshot> = new Map();
        const snap = () => roundCpu(round_);
        let dbBefore: Record<string, number> | undefined;
        let machineBefore = machineCpu();
        let machineBusyCores: number | undefined;
        const meter = {
          async start() {
            dbBefore = await round_.dbCounters?.();
            before = await snap();
            machineBefore = machineCpu();
          },
          async stop() {
            const m = machineCpu();
            machineBusyCores = round((m.busy - machineBefore.busy) / ((m.all - machineBefore.all) / os.cpus().length));
            return cpuDelta(before, await snap());
          },
        };
        await settle(`${name} ${w}`, snap);
        const loadavg = os.loadavg().map((x) => round(x));
        if (w === 'W1') {
          await checkW1(r.url);
          log(`${name} W1: correct; ${opts.warmupSec} s warm-up + ${opts.durationSec} s at ${opts.connections} connections`);
          res = await runW1(r.url, opts, meter);
        } else {
          await checkW3(r);
          log(`${name} W3: correct; burst of ${opts.w3Runs} at ${opts.w3Connections} connections`);
          res = await runW3(r.url, r.count!, {
            runs: opts.w3Runs,
            connections: opts.w3Connections,
            completeTimeoutSec: opts.w3TimeoutSec,
          }, meter, r.unfinished);
        }
        let dbPerRun: Record<string, number> | undefined;
        if (dbBefore && round_.dbCounters) {
          // PostgreSQL publishes its statistics with a delay of up to ~1 s (outside the measurement).
          await new Promise((res) => setTimeout(res, 1500));
          const after = await round_.dbCounters();
          const n = 'rps' in res ? res.requests : res.completed;
          // xact_commit leaves the benchmark's own queries out; tup_* include its polling of executions.
          dbPerRun = Object.fromEntries(
            Object.entries(after)
              .map(([k, v]) => [k, n ? round((v - (dbBefore![k] ?? 0)) / n) : 0] as const)
              .filter(([k, v]) => !k.startsWith('seq_tup_read:') || v >= 1),
          );
        }
        const disturbed = await round_.disturbances?.().catch((e) => ({ disturbance_check_failed: String(e) }));
        const line: Line = { system: name, version: sys.version, ...res, store: w === 'W3' ? sys.store : undefined, ...r.info, ...disturbed, ...(dbPerRun ? { postgres_per_run: dbPerRun } : {}), machine_busy_cores: machineBusyCores, loadavg_before: loadavg };
        results.push(line);
        emit({ kind: 'result', ...line });
      } catch (e) {
        emit({ kind: 'error', system: name, workload: w, error: String((e as Error).message ?? e).slice(0, 4000) });
      } finally {
        await r?.stop().catch(() => undefined);
      }
    }
  }
  if (workloads.includes('W1') && opts.pairedTurns > 0 && prepared.size > 1) await pairedW1(prepared);
  if (args['compare-with']) loadEarlier(args['compare-with']);
  emitRatios();
  if (results.length) process.stderr.write(`\n${markdownTable(results)}\n\n`);
}

/** W1 of every system from paired turns (see --paired-turns), by system. */
const paired: Record<string, TurnsResult> = {};

async function pairedW1(systems: Map<string, System>) {
  const rounds: Array<{ name: string; r: Round }> = [];
  try {
    for (const [name, sys] of systems) {
      log(`${name} W1 paired: starting a fresh instance`);
      rounds.push({ name, r: await sys.startRound('W1', ctx) });
    }
    for (const { name, r } of rounds) {
      await settle(`${name} W1 paired`, () => roundCpu(r));
      await checkW1(r.url);
    }
    log(`W1 paired: ${rounds.map((x) => x.name).join(', ')} in ${opts.pairedTurns} turns of ${opts.pairedSliceSec} s each, ${opts.connections} connections`);
    const machineBefore = machineCpu();
    const res = await runW1Turns(
      rounds.map(({ r }) => ({ url: r.url, cpu: () => roundCpu(r) })),
      { connections: opts.connections, warmupSec: opts.warmupSec, turns: opts.pairedTurns, sliceSec: opts.pairedSliceSec },
    );
    const m = machineCpu();
    rounds.forEach(({ name }, j) => (paired[name] = res[j]!));
    emit({
      kind: 'paired',
      workload: 'W1',
      turns: opts.pairedTurns,
      slice_s: opts.pairedSliceSec,
      connections: opts.connections,
      systems: paired,
      machine_busy_cores: round((m.busy - machineBefore.busy) / ((m.all - machineBefore.all) / os.cpus().length)),
    });
  } catch (e) {
    emit({ kind: 'error', stage: 'paired W1', error: String((e as Error).message ?? e).slice(0, 4000) });
  } finally {
    for (const { r } of rounds) await r.stop().catch(() => undefined);
  }
}

/** The W1 targets of one Gridflow mode (null: not measured). */
function w1Targets(g: string, vsN8n: number | undefined, vsRed: number | undefined, p99Label: string, p99: number | undefined) {
  return {
    [`${g} W1 >= 5x n8n`]: vsN8n === undefined ? null : vsN8n >= 5,
    [`${g} W1 >= 0.5x node-red`]: vsRed === undefined ? null : vsRed >= 0.5,
    [`${g} W1 ${p99Label} < 50 ms`]: p99 === undefined ? null : p99 < 50,
  };
}

function emitRatios() {
  const metric = (l: Line) => ('rps' in l ? l.rps : l.runs_per_s);
  const by = (sys: string, w: Workload) => results.find((l) => l.system === sys && l.workload === w);
  const ratios: Record<string, Record<string, number>> = {};
  const cpuRatios: Record<string, Record<string, number>> = {};
  const targets: Record<string, boolean | null> = {};
  for (const w of workloads) {
    ratios[w] = {};
    cpuRatios[w] = {};
    for (const g of ['gridflow-scaled', 'gridflow-embedded']) {
      const gl = by(g, w);
      for (const p of ['n8n', 'node-red']) {
        const pl = by(p, w);
        if (gl && pl && metric(pl) > 0) ratios[w]![`${g}/${p}`] = round(metric(gl) / metric(pl));
        // CPU efficiency: the peer's CPU time per run over Gridflow's (> 1: Gridflow needs less CPU
        // per run). Steadier than throughput on a machine shared with other work.
        const cpu = (l: Line) => ('cpu_ms_per_req' in l ? l.cpu_ms_per_req : l.cpu_ms_per_run);
        if (gl && pl && cpu(gl) > 0) cpuRatios[w]![`${p}/${g}`] = round(cpu(pl) / cpu(gl));
      }
      const vsN8n = ratios[w]![`${g}/n8n`];
      if (w === 'W1') {
        Object.assign(targets, w1Targets(g, vsN8n, ratios[w]![`${g}/node-red`], 'p99', gl && 'p99_ms' in gl ? gl.p99_ms : undefined));
      } else {
        targets[`${g} W3 >= 5x n8n`] = vsN8n === undefined ? null : vsN8n >= 5;
      }
    }
  }
  const pairedRatios: Record<string, number> = {};
  const pairedTargets: Record<string, boolean | null> = {};
  for (const g of ['gridflow-scaled', 'gridflow-embedded']) {
    for (const p of ['n8n', 'node-red']) {
      const gl = paired[g];
      const pl = paired[p];
      if (gl && pl && pl.rps > 0) pairedRatios[`${g}/${p}`] = round(gl.rps / pl.rps);
    }
    if (!Object.keys(paired).length) continue;
    Object.assign(
      pairedTargets,
      w1Targets(g, pairedRatios[`${g}/n8n`], pairedRatios[`${g}/node-red`], 'worst-turn p99', paired[g]?.worst_turn_p99_ms),
    );
  }
  emit({
    kind: 'ratios',
    metric: { W1: 'requests/s', W3: 'runs/s end to end' },
    ratios,
    cpu_per_run_ratios: cpuRatios,
    targets,
    ...(Object.keys(paired).length ? { paired_w1_ratios: pairedRatios, paired_w1_targets: pairedTargets } : {}),
    ...(compared.length ? { compared_with_earlier_run: compared } : {}),
  });
}

main()
  .catch((e) => {
    emit({ kind: 'error', stage: 'main', error: String((e as Error).stack ?? e) });
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    if (args.keep || args.profile) log(`scratch folder kept: ${workDir}${args.profile ? ' (CPU profiles in */profiles)' : ''}`);
    else rmSync(workDir, { recursive: true, force: true });
  });
