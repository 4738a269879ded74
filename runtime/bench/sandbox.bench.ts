/**
 * Sandbox and expression benchmarks. Prints one JSON line per figure.
 *   node --no-node-snapshot --import tsx runtime/bench/sandbox.bench.ts
 * Also importable: `runSandboxBench({ print })` (used by the root `npm run bench`).
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildNodesScope, evaluateExpression, resolveTemplate, type ExpressionScope } from '../src/expressions.js';
import { createSandbox } from '../src/sandbox.js';

export interface BenchFigure {
  bench: string;
  unit: 'ms' | 'ops/s';
  n: number;
  p50?: number;
  p99?: number;
  mean?: number;
  value?: number;
  note?: string;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

function summary(bench: string, samples: number[], note?: string): BenchFigure {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { bench, unit: 'ms', n: samples.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), mean: round(mean), ...(note ? { note } : {}) };
}

async function time(fn: () => Promise<unknown>, n: number, warmup = Math.min(200, n)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

function loadNote(): string {
  return `load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.availableParallelism()} cores`;
}

export async function runSandboxBench(opts: { print?: (f: BenchFigure) => void; scale?: number } = {}): Promise<BenchFigure[]> {
  const print = opts.print ?? ((f: BenchFigure) => console.log(JSON.stringify(f)));
  const scale = opts.scale ?? 1;
  const figures: BenchFigure[] = [];
  const emit = (f: BenchFigure) => {
    figures.push(f);
    print(f);
  };

  print({ bench: 'sandbox.environment', unit: 'ms', n: 0, note: loadNote() });

  // W1's code step.
  const code = 'const { n, text } = input;\nreturn { n2: n * 2, len: text.length, upper: text.toUpperCase() };';
  const input = { n: 21, text: 'hello' };

  // Cold: a new sandbox's first call (new isolate + compile + context).
  {
    const samples: number[] = [];
    for (let i = 0; i < 30 * scale; i++) {
      const sb = createSandbox({ poolSize: 1 });
      const t = performance.now();
      await sb.runCode(code, { input });
      samples.push(performance.now() - t);
      sb.dispose();
    }
    emit(summary('sandbox.code_call.cold', samples, 'new isolate + compile + fresh context'));
  }

  const sandbox = createSandbox();
  try {
    const check = await sandbox.runCode(code, { input });
    if (JSON.stringify(check) !== JSON.stringify({ n2: 42, len: 5, upper: 'HELLO' })) throw new Error(`wrong result ${JSON.stringify(check)}`);

    {
      const cpu0 = process.cpuUsage();
      const samples = await time(() => sandbox.runCode(code, { input }), 5000 * scale);
      const cpu = process.cpuUsage(cpu0);
      emit(summary('sandbox.code_call.warm', samples, 'pooled isolate, cached script, fresh context per call'));
      // CPU time of the whole process (all threads) per call: independent of other load on the machine.
      emit({
        bench: 'sandbox.code_call.warm_cpu',
        unit: 'ms',
        n: samples.length + Math.min(200, samples.length),
        mean: round((cpu.user + cpu.system) / 1000 / (samples.length + Math.min(200, samples.length))),
        note: 'process CPU (user+system, all threads) per call',
      });
    }

    // The code node's case: runs of one node reuse their context (same reuseKey and source).
    {
      const cpu0 = process.cpuUsage();
      const samples = await time(() => sandbox.runCode(code, { input }, { reuseKey: 'ws/grid/code1' }), 5000 * scale);
      const cpu = process.cpuUsage(cpu0);
      emit(summary('sandbox.code_call.warm_reused', samples, 'pooled isolate, cached script, context reused by runs of the same node (the code node)'));
      const n = samples.length + Math.min(200, samples.length);
      emit({ bench: 'sandbox.code_call.warm_reused_cpu', unit: 'ms', n, mean: round((cpu.user + cpu.system) / 1000 / n), note: 'process CPU (user+system, all threads) per call' });
    }

    // Calls spaced like steps in an engine (each step also does ~1 ms of database work): the
    // isolate prepares the next fresh context in between, off the call's path.
    {
      const samples: number[] = [];
      for (let i = 0; i < 1000 * scale; i++) {
        await new Promise((r) => setTimeout(r, 1));
        const t = performance.now();
        await sandbox.runCode(code, { input });
        samples.push(performance.now() - t);
      }
      emit(summary('sandbox.code_call.warm_spaced', samples, 'calls 1 ms apart: fresh context prepared in the background'));
    }

    // A larger input: 50 items of a typical post object.
    const items = Array.from({ length: 50 }, (_, i) => ({ id: i, title: `Post ${i}`, body: 'lorem ipsum '.repeat(20), tags: ['a', 'b'] }));
    emit(
      summary(
        'sandbox.code_call.warm_50_items',
        await time(() => sandbox.runCode('return input.items.filter(i => i.id % 2).map(i => ({ id: i.id, t: i.title.toUpperCase() }))', { input: { items } }), 2000 * scale),
        '~13 KB input JSON',
      ),
    );

    emit(summary('sandbox.evaluate.warm', await time(() => sandbox.evaluate('trigger.body.n * 2 + 1', { trigger: { body: { n: 21 } } }), 5000 * scale)));

    // Concurrency: 16 calls in flight over the pool.
    {
      const total = 4000 * scale;
      let next = 0;
      const t = performance.now();
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < total) {
            next++;
            await sandbox.runCode(code, { input });
          }
        }),
      );
      const secs = (performance.now() - t) / 1000;
      emit({ bench: 'sandbox.code_call.throughput_c16', unit: 'ops/s', n: total, value: Math.round(total / secs), note: `pool of ${sandbox.stats().isolatesCreated} isolates` });
    }

    // Expressions.
    const scope: ExpressionScope = {
      trigger: { body: { title: 'Launch', n: 21 } },
      nodes: buildNodesScope([{ id: 'gen1', name: 'Generate post', output: { text: 'Hello', items: [{ name: 'a' }] } }]),
      run: { id: 'r', gridId: 'g', startedAt: new Date().toISOString() },
    };
    emit(summary('expression.plain_path.native', await time(() => evaluateExpression('nodes["Generate post"].output.items[0].name', scope, sandbox), 20_000 * scale, 1000), 'no isolate'));
    emit(summary('expression.template.mixed_native', await time(() => resolveTemplate('Title: {{ trigger.body.title }} by {{ nodes.gen1.output.text }}', scope, sandbox), 20_000 * scale, 1000)));
    emit(summary('expression.sandboxed', await time(() => evaluateExpression('trigger.body.title.toUpperCase() + "!"', scope, sandbox), 5000 * scale), 'through Sandbox.evaluate'));
  } finally {
    sandbox.dispose();
  }
  return figures;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runSandboxBench();
}
