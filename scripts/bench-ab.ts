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
import autocannon from 'autocannon';
import { gridflowSystem } from './bench-peers/gridflow.js';
import { checkW1, W1_BODY } from './bench-peers/load.js';
import { cpuDelta, cpuSnapshot, installExitHooks, stopAll } from './bench-peers/proc.js';
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
for (const extra of variants) {
  const saved = { ...process.env };
  Object.assign(process.env, extra); // read by startRound when it starts the processes
  rounds.push(await sys.startRound('W1', ctx));
  for (const k of Object.keys(extra)) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
}
const load = (url: string, duration: number) =>
  new Promise<autocannon.Result>((resolve, reject) =>
    autocannon(
      { url, method: 'POST', connections: 16, headers: { 'content-type': 'application/json' }, body: JSON.stringify(W1_BODY), duration },
      (err, r) => (err ? reject(err) : resolve(r)),
    ),
  );
for (const r of rounds) {
  await checkW1(r.url);
  await load(r.url, 3); // warm-up
}
const acc = rounds.map(() => ({ requests: 0, seconds: 0, errors: 0, cpu: {} as Record<string, number> }));
for (let i = 0; i < turns; i++) {
  const order = rounds.map((_, j) => j);
  if (i % 2) order.reverse();
  for (const j of order) {
    const r = rounds[j]!;
    const snap = async () => cpuSnapshot(r.groups, (await r.extraPids?.()) ?? [], 'postgres backends');
    const before = await snap();
    const res = await load(r.url, slice);
    const d = cpuDelta(before, await snap());
    const a = acc[j]!;
    a.requests += res.requests.total;
    a.seconds += res.duration;
    a.errors += res.errors + res.non2xx;
    for (const [k, v] of Object.entries(d.by)) a.cpu[k] = (a.cpu[k] ?? 0) + v;
  }
}
acc.forEach((a, j) => {
  const perRequest = Object.fromEntries(Object.entries(a.cpu).map(([k, v]) => [k, Math.round((v * 1e6) / a.requests)]));
  console.log(JSON.stringify({ variant: variants[j], rps: Math.round(a.requests / a.seconds), errors: a.errors, cpu_us_per_request: perRequest }));
});
for (const r of rounds) await r.stop();
await stopAll();
process.exit(0);
