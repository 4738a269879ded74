/**
 * Markdown table of `npm run bench:peers` result lines (for the README's Performance section).
 *
 *   node --import tsx scripts/bench-peers/table.ts run1.jsonl [run2.jsonl …]
 *
 * When a system/workload appears in several files, the last one wins.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Line {
  kind?: string;
  system: string;
  version: string;
  workload: 'W1' | 'W3';
  rps?: number;
  p50_ms?: number;
  p99_ms?: number;
  cpu_ms_per_req?: number;
  errors?: number;
  non2xx?: number;
  mismatches?: number;
  runs_per_s?: number;
  completed?: number;
  runs?: number;
  failed?: number;
  cpu_ms_per_run?: number;
  timed_out?: boolean;
  loadavg_before?: number[];
  worker_processes?: number;
}

const ORDER = ['node-red', 'n8n', 'gridflow-scaled', 'gridflow-embedded'];
const LABEL: Record<string, string> = {
  'node-red': 'Node-RED',
  n8n: 'n8n',
  'gridflow-scaled': 'Gridflow scaled',
  'gridflow-embedded': 'Gridflow embedded',
};

export function markdownTable(lines: Line[]): string {
  const by = new Map<string, Line>();
  for (const l of lines) if (l.kind === 'result' || l.kind === undefined) by.set(`${l.system} ${l.workload}`, l);
  const systems = [...new Set([...by.values()].map((l) => l.system))].sort(
    (a, b) => (ORDER.indexOf(a) + 99) % 99 - ((ORDER.indexOf(b) + 99) % 99),
  );
  const f = (x: number | undefined, d = 0) => (x === undefined ? '–' : x.toFixed(d));
  const rows = systems.map((s) => {
    const w1 = by.get(`${s} W1`);
    const w3 = by.get(`${s} W3`);
    const any = w1 ?? w3!;
    const name =
      `${LABEL[s] ?? s} ${any.version}` + (s === 'gridflow-scaled' && any.worker_processes ? ` (${any.worker_processes} workers)` : '');
    const w1Err = w1 ? (w1.errors ?? 0) + (w1.non2xx ?? 0) + (w1.mismatches ?? 0) : undefined;
    const w3Note = w3 ? `${w3.completed}/${w3.runs}${w3.failed ? `, ${w3.failed} failed` : ''}${w3.timed_out ? ', cut by time bound' : ''}` : '–';
    const load = [w1?.loadavg_before?.[0], w3?.loadavg_before?.[0]].filter((x) => x !== undefined).map((x) => f(x, 0)).join(' / ');
    return `| ${name} | ${f(w1?.rps, 1)} | ${f(w1?.p50_ms)} / ${f(w1?.p99_ms)} | ${f(w1?.cpu_ms_per_req, 1)} | ${f(w1Err)} | ${f(w3?.runs_per_s, 1)} | ${f(w3?.cpu_ms_per_run, 1)} | ${w3Note} | ${load} |`;
  });
  return [
    '| System | W1 req/s | W1 p50 / p99 ms | W1 CPU ms/req | W1 errors | W3 runs/s | W3 CPU ms/run | W3 completed | load avg (W1 / W3) |',
    '|---|---:|---:|---:|---:|---:|---:|---|---|',
    ...rows,
  ].join('\n');
}

export function readLines(files: string[]): Line[] {
  return files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line)
      .filter((l) => l.kind === 'result'),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('usage: node --import tsx scripts/bench-peers/table.ts results.jsonl [more.jsonl …]');
    process.exit(2);
  }
  console.log(markdownTable(readLines(files)));
}
