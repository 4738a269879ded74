/**
 * Paired A/B benchmark of a Gridflow change behind an environment variable: fresh instances (one
 * per variant, same code) get W1's load in turns of a few seconds, so this machine's CPU speed,
 * which drifts from minute to minute, affects every variant alike. Prints each variant's requests/s
 * and CPU µs per request by process.
 *
 *   AB_V='[{}, {"SOME_FLAG":"1"}]' npm run bench:ab
 *
 * AB_V: a JSON array of environment additions, one per variant. AB_MODE: scaled (default; needs
 * PostgreSQL and Redis) or embedded. AB_K: turns per variant (default 10). AB_SLICE: seconds per turn
 * (default 2). Same-variant pairs (`[{}, {}]`) differed by up to 4 % here.
 */
import os from 'node:os';
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { gridflowSystem } from './bench-peers/gridflow.js';
import { checkW1, runW1Turns, type TurnsResult } from './bench-peers/load.js';
import { installExitHooks, roundCpu, stopAll } from './bench-peers/proc.js';
import type { BenchContext, Round } from './bench-peers/system.js';

installExitHooks();
const variants = JSON.parse(process.env.AB_V ?? '[{}, {}]') as Record<string, string>[];
const mode = (process.env.AB_MODE ?? 'scaled') as 'scaled' | 'embedded';
const turns = Number(process.env.AB_K ?? 10);
const slice = Number(process.env.AB_SLICE ?? 2);
const ctx: BenchContext = {
  workDir: mkdtempSync(path.join(os.tmpdir(), 'gridflow-bench-ab-')),
  cacheDir: '',
  repoDir: process.cwd(),
  log: (m) => console.error(m),
};
const sys = gridflowSystem({ mode, workers: mode === 'scaled' ? 2 : 0, profile: false });
await sys.prepare(ctx);
const rounds: Round[] = [];
/** CPU µs per request by process. */
const perRequest = (a: TurnsResult) =>
  Object.fromEntries(Object.entries(a.cpu_by_process).map(([k, v]) => [k, Math.round((v * 1e6) / a.requests)]));
for (const extra of variants) {
  const saved = { ...process.env };
  Object.assign(process.env, extra); // read by startRound when it starts the processes
  rounds.push(await sys.startRound('W1', ctx));
  for (const k of Object.keys(extra)) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
}
for (const r of rounds) await checkW1(r.url);
const results = await runW1Turns(
  rounds.map((r) => ({ url: r.url, cpu: () => roundCpu(r) })),
  { connections: 16, warmupSec: 3, turns, sliceSec: slice },
);
results.forEach((a, j) => {
  console.log(JSON.stringify({ variant: variants[j], rps: a.rps, errors: a.errors, cpu_us_per_request: perRequest(a) }));
});
for (const r of rounds) await r.stop();
await stopAll();
process.exit(0);
