import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  applyPlan,
  compileGrid,
  initialPlan,
  NO_ITEM,
  planNext,
  stepKey,
  type CompiledGrid,
  type Plan,
  type StepState,
} from './planner.js';
import { grid, testRegistryView } from './testing/grid-builder.js';
import type { Json } from './node-type.js';
import type { GridDocument } from './document.js';

type Outcome =
  { status: 'completed'; output: Json; ports?: string[] } | { status: 'failed'; message: string };

interface SimResult {
  finished: NonNullable<Plan['finished']>;
  steps: Map<string, StepState>;
  runs: Map<string, number>;
  inputs: Map<string, Json>;
  loopResults: Map<string, Json[]>;
  maxInflight: Map<string, number>;
}

/** Runs a grid to the end: picks the next pending step with `pick`, decides its outcome with `outcome`. */
function simulate(
  doc: GridDocument,
  outcome: (nodeId: string, itemIndex: number, input: Json) => Outcome,
  pick: (n: number) => number = () => 0,
  trigger: Json = { t: 1 },
): SimResult {
  const g = compileGrid(doc, testRegistryView);
  const steps = new Map<string, StepState>();
  const runs = new Map<string, number>();
  const inputs = new Map<string, Json>();
  const loopResults = new Map<string, Json[]>();
  const maxInflight = new Map<string, number>();
  const errorHandling = doc.settings.errorHandling;
  let plan = initialPlan(g, trigger, errorHandling);
  const pending: Array<{ nodeId: string; itemIndex: number }> = [];
  const absorb = (p: Plan) => {
    applyPlan(steps, p);
    for (const r of p.ready) {
      pending.push({ nodeId: r.nodeId, itemIndex: r.itemIndex });
      inputs.set(stepKey(r.nodeId, r.itemIndex), r.input);
    }
    for (const l of p.finishedLoops) loopResults.set(l.nodeId, l.results);
    trackInflight(g, steps, maxInflight);
  };
  absorb(plan);
  for (let guard = 0; guard < 100_000; guard++) {
    if (plan.finished)
      return { finished: plan.finished, steps, runs, inputs, loopResults, maxInflight };
    expect(pending.length).toBeGreaterThan(0); // not finished ⇒ something can run
    const [next] = pending.splice(pick(pending.length) % pending.length, 1);
    const key = stepKey(next!.nodeId, next!.itemIndex);
    runs.set(key, (runs.get(key) ?? 0) + 1);
    const st = steps.get(key)!;
    const out = outcome(next!.nodeId, next!.itemIndex, st.input ?? null);
    steps.set(
      key,
      out.status === 'completed'
        ? { status: 'completed', input: st.input, output: out.output, ports: out.ports ?? null }
        : {
            status: 'failed',
            input: st.input,
            error: { message: out.message, code: 'ERROR', kind: 'fatal' },
          },
    );
    plan = planNext(g, { steps, errorHandling });
    absorb(plan);
  }
  throw new Error('simulation did not end');
}

function trackInflight(g: CompiledGrid, steps: Map<string, StepState>, max: Map<string, number>) {
  for (const [fe, info] of g.forEach) {
    const inflight = new Set<number>();
    for (const b of info.body) {
      for (const [k, s] of steps) {
        if (!k.startsWith(`${b}#`)) continue;
        const i = Number(k.slice(b.length + 1));
        if (i >= 0 && (s.status === 'pending' || s.status === 'running')) inflight.add(i);
      }
    }
    max.set(fe, Math.max(max.get(fe) ?? 0, inflight.size));
  }
}

const ok = (output: Json = 'ok', ports?: string[]): Outcome =>
  ports ? { status: 'completed', output, ports } : { status: 'completed', output };

describe('planner', () => {
  it('runs a linear chain in order, passing outputs along', () => {
    const doc = grid(['t', 'a', 'b'], ['t>a', 'a>b']);
    const r = simulate(doc, (id, _i, input) => ok({ by: id, got: input }));
    expect(r.finished.status).toBe('completed');
    expect(r.inputs.get(stepKey('a', NO_ITEM))).toEqual({ by: 't', got: { t: 1 } });
    expect(r.inputs.get(stepKey('b', NO_ITEM))).toEqual({
      by: 'a',
      got: { by: 't', got: { t: 1 } },
    });
  });

  it('skips an untaken branch and propagates the skip, but a join with one live parent still runs', () => {
    const doc = grid(
      ['t', { id: 'if', type: 'branch' }, 'yes', 'no', 'noAfter', 'join'],
      ['t>if', 'if.true>yes', 'if.false>no', 'no>noAfter', 'yes>join', 'noAfter>join'],
    );
    const r = simulate(doc, (id) => (id === 'if' ? ok('x', ['true']) : ok(id)));
    expect(r.finished.status).toBe('completed');
    expect(r.steps.get(stepKey('no', NO_ITEM))!.status).toBe('skipped');
    expect(r.steps.get(stepKey('noAfter', NO_ITEM))!.status).toBe('skipped');
    expect(r.steps.get(stepKey('join', NO_ITEM))!.status).toBe('completed');
    expect(r.inputs.get(stepKey('join', NO_ITEM))).toBe('yes');
  });

  it('fans out in parallel and joins with every live parent keyed by name', () => {
    const doc = grid(['t', 'a', 'b', 'c', 'j'], ['t>a', 't>b', 't>c', 'a>j', 'b>j', 'c>j']);
    const g = compileGrid(doc, testRegistryView);
    const steps = new Map<string, StepState>();
    applyPlan(steps, initialPlan(g, null));
    steps.set(stepKey('t', NO_ITEM), { status: 'completed', output: 1 });
    const p = planNext(g, { steps, errorHandling: 'stop' });
    expect(p.ready.map((r) => r.nodeId).sort()).toEqual(['a', 'b', 'c']);
    applyPlan(steps, p);
    steps.set(stepKey('a', NO_ITEM), { status: 'completed', output: 'A' });
    steps.set(stepKey('b', NO_ITEM), { status: 'completed', output: 'B' });
    expect(planNext(g, { steps, errorHandling: 'stop' }).ready).toEqual([]); // waits for c
    steps.set(stepKey('c', NO_ITEM), { status: 'completed', output: 'C' });
    const p2 = planNext(g, { steps, errorHandling: 'stop' });
    expect(p2.ready).toEqual([
      { nodeId: 'j', itemIndex: NO_ITEM, input: { a: 'A', b: 'B', c: 'C' } },
    ]);
  });

  it('sends a failed node into its error edge with { error, input }', () => {
    const doc = grid(['t', 'a', 'ok', 'handler'], ['t>a', 'a>ok', 'a!>handler']);
    const r = simulate(doc, (id, _i, input) =>
      id === 'a' ? { status: 'failed', message: 'boom' } : ok({ id, input }),
    );
    expect(r.finished.status).toBe('completed');
    expect(r.steps.get(stepKey('ok', NO_ITEM))!.status).toBe('skipped');
    expect(r.inputs.get(stepKey('handler', NO_ITEM))).toEqual({
      error: { message: 'boom', code: 'ERROR', kind: 'fatal' },
      input: { id: 't', input: { t: 1 } },
    });
  });

  it("fails the run at once on an unhandled failure with errorHandling 'stop'", () => {
    const doc = grid(['t', 'a', 'b', 'slow'], ['t>a', 'a>b', 't>slow']);
    const g = compileGrid(doc, testRegistryView);
    const steps = new Map<string, StepState>();
    applyPlan(steps, initialPlan(g, null));
    steps.set(stepKey('t', NO_ITEM), { status: 'completed', output: 1 });
    applyPlan(steps, planNext(g, { steps, errorHandling: 'stop' }));
    steps.set(stepKey('slow', NO_ITEM), { status: 'running' });
    steps.set(stepKey('a', NO_ITEM), {
      status: 'failed',
      error: { message: 'bad', code: 'X', kind: 'fatal' },
    });
    const p = planNext(g, { steps, errorHandling: 'stop' });
    expect(p.finished).toEqual({
      status: 'failed',
      nodeId: 'a',
      error: { message: 'Node "a" failed: bad', code: 'X', kind: 'fatal' },
    });
  });

  it("with errorHandling 'continue' only the failed node's successors die", () => {
    const doc = grid(['t', 'a', 'b', 'c'], ['t>a', 'a>b', 't>c'], { errorHandling: 'continue' });
    const r = simulate(doc, (id) => (id === 'a' ? { status: 'failed', message: 'bad' } : ok(id)));
    expect(r.steps.get(stepKey('b', NO_ITEM))!.status).toBe('skipped');
    expect(r.steps.get(stepKey('c', NO_ITEM))!.status).toBe('completed');
    expect(r.finished.status).toBe('failed');
  });

  it('passes disabled nodes through without running them', () => {
    const doc = grid(['t', { id: 'a', disabled: true }, 'b'], ['t>a', 'a>b']);
    const r = simulate(doc, (id) => ok(`out-${id}`));
    expect(r.runs.has(stepKey('a', NO_ITEM))).toBe(false);
    expect(r.inputs.get(stepKey('b', NO_ITEM))).toBe('out-t');
  });

  it('runs a for-each body once per item with the concurrency limit and collects results in order', () => {
    const doc = grid(
      [
        't',
        { id: 'fe', type: 'for-each', config: { items: '{{ trigger.list }}', concurrency: 2 } },
        'x',
        'y',
        'after',
      ],
      ['t>fe', 'fe.item>x', 'x>y', 'fe.done>after'],
    );
    const items = [10, 20, 30, 40, 50];
    const r = simulate(
      doc,
      (id, i, input) => {
        if (id === 'fe') return ok({ items });
        if (id === 'x') return ok((input as number) + i);
        if (id === 'y') return ok((input as number) * 2);
        return ok(input);
      },
      (n) => n - 1, // run the newest pending first: items interleave
    );
    expect(r.finished.status).toBe('completed');
    for (let i = 0; i < items.length; i++) expect(r.runs.get(stepKey('y', i))).toBe(1);
    expect(r.loopResults.get('fe')).toEqual(items.map((v, i) => (v + i) * 2));
    expect(r.inputs.get(stepKey('after', NO_ITEM))).toEqual(items.map((v, i) => (v + i) * 2));
    expect(r.maxInflight.get('fe')).toBe(2);
  });

  it('an empty list fires done with [] and skips the body', () => {
    const doc = grid(
      ['t', { id: 'fe', type: 'for-each' }, 'x', 'after'],
      ['t>fe', 'fe.item>x', 'fe.done>after'],
    );
    const r = simulate(doc, (id) => (id === 'fe' ? ok({ items: [] }) : ok(id)));
    expect(r.inputs.get(stepKey('after', NO_ITEM))).toEqual([]);
    expect([...r.steps.keys()].some((k) => k.startsWith('x#'))).toBe(false);
  });

  it('an unhandled item failure fails the for-each, which then follows its own error edge', () => {
    const doc = grid(
      ['t', { id: 'fe', type: 'for-each', config: { concurrency: 1 } }, 'x', 'after', 'onErr'],
      ['t>fe', 'fe.item>x', 'fe.done>after', 'fe!>onErr'],
    );
    const r = simulate(doc, (id, i) =>
      id === 'fe'
        ? ok({ items: [1, 2, 3] })
        : id === 'x' && i === 1
          ? { status: 'failed', message: 'nope' }
          : ok(i),
    );
    expect(r.finished.status).toBe('completed');
    expect(r.steps.get(stepKey('fe', NO_ITEM))!.status).toBe('failed');
    expect(r.steps.get(stepKey('after', NO_ITEM))!.status).toBe('skipped');
    expect(r.runs.has(stepKey('x', 2))).toBe(false); // no new items after the failure
    expect(
      (r.inputs.get(stepKey('onErr', NO_ITEM)) as { error: { message: string } }).error.message,
    ).toBe('Item 2 of 3 failed at node "x": nope');
  });

  it('a failure handled inside the body yields the handler output, several sinks are keyed by name', () => {
    const doc = grid(
      ['t', { id: 'fe', type: 'for-each' }, 'x', 'fix', 'y', 'after'],
      ['t>fe', 'fe.item>x', 'x!>fix', 'x>y', 'fe.done>after'],
    );
    const r = simulate(doc, (id, i) =>
      id === 'fe'
        ? ok({ items: ['a', 'b'] })
        : id === 'x' && i === 0
          ? { status: 'failed', message: 'e' }
          : ok(`${id}${i}`),
    );
    expect(r.finished.status).toBe('completed');
    expect(r.loopResults.get('fe')).toEqual([{ fix: 'fix0' }, { y: 'y1' }]);
  });

  it('is idempotent: planning the same state twice plans nothing new', () => {
    const doc = grid(['t', 'a', 'b'], ['t>a', 't>b']);
    const g = compileGrid(doc, testRegistryView);
    const steps = new Map<string, StepState>();
    applyPlan(steps, initialPlan(g, null));
    steps.set(stepKey('t', NO_ITEM), { status: 'completed', output: 1 });
    applyPlan(steps, planNext(g, { steps, errorHandling: 'stop' }));
    const again = planNext(g, { steps, errorHandling: 'stop' });
    expect(again.ready).toEqual([]);
    expect(again.skipped).toEqual([]);
    expect(again.finished).toBeNull();
  });
});

/** Random DAGs: node i may only receive edges from nodes < i, so the graph is acyclic by construction. */
const randomGrid = fc
  .record({
    n: fc.integer({ min: 2, max: 9 }),
    seed: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(3), fc.boolean()), {
      minLength: 1,
      maxLength: 24,
    }),
    types: fc.array(fc.constantFrom('noop', 'noop', 'branch', 'for-each'), {
      minLength: 9,
      maxLength: 9,
    }),
    disabled: fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }),
    errorHandling: fc.constantFrom('stop' as const, 'continue' as const),
    concurrency: fc.integer({ min: 1, max: 3 }),
  })
  .map(({ n, seed, types, disabled, errorHandling, concurrency }) => {
    const ids = Array.from({ length: n }, (_, i) => `n${i}`);
    const nodes = ids.map((id, i) => ({
      id,
      type: i === 0 ? 'trigger' : types[i]!,
      config: types[i] === 'for-each' ? { concurrency } : {},
      disabled: i > 0 && disabled[i]! && i % 4 === 0,
    }));
    const edges = new Set<string>();
    for (let i = 1; i < n; i++)
      edges.add(
        `n${seed[i % seed.length]![0] % i}>n${i}`.replace(
          '>',
          portOf(nodes, seed[i % seed.length]![0] % i, 0) + '>',
        ),
      );
    for (const [a, b, p, err] of seed) {
      const s = a % n;
      const t = b % n;
      if (s >= t) continue;
      edges.add(err && s > 0 ? `n${s}!>n${t}` : `n${s}${portOf(nodes, s, p)}>n${t}`);
    }
    // Keep for-each bodies closed and un-nested, as validation demands: drop offending edges.
    let doc = grid(nodes, [...edges], { errorHandling });
    for (let round = 0; round < 5; round++) {
      const g = compileGrid(doc, testRegistryView);
      const bad = new Set<string>();
      for (const e of doc.edges) {
        const sb = g.bodyOf.get(e.source);
        const tb = g.bodyOf.get(e.target);
        const entry = g.nodes.get(e.source)!.type === 'for-each' && e.sourceHandle === 'item';
        if (sb !== undefined && sb !== tb) bad.add(e.id);
        if (tb !== undefined && sb !== tb && !(entry && e.source === tb)) bad.add(e.id);
        if (tb !== undefined && g.nodes.get(e.target)!.type === 'for-each') bad.add(e.id);
      }
      if (!bad.size) break;
      doc = { ...doc, edges: doc.edges.filter((e) => !bad.has(e.id)) };
    }
    return doc;
  });

function portOf(nodes: Array<{ type: string }>, i: number, p: number): string {
  const t = nodes[i]!.type;
  if (t === 'branch') return p % 2 ? '.true' : '.false';
  if (t === 'for-each') return p % 2 ? '.item' : '.done';
  return '';
}

describe('planner properties (random DAGs)', () => {
  it('every run ends, each node runs at most once per item, and ready/skipped sets are consistent', () => {
    fc.assert(
      fc.property(
        randomGrid,
        fc.array(fc.nat(), { minLength: 50, maxLength: 50 }),
        fc.array(fc.nat(9), { minLength: 50, maxLength: 50 }),
        (doc, picks, fates) => {
          let pickI = 0;
          let fateI = 0;
          const g = compileGrid(doc, testRegistryView);
          const r = simulate(
            doc,
            (id, i) => {
              const fate = fates[fateI++ % fates.length]!;
              const node = g.nodes.get(id)!;
              if (node.type === 'for-each')
                return ok({ items: Array.from({ length: fate % 4 }, (_, k) => k) });
              if (fate === 0 && id !== 'n0') return { status: 'failed', message: `f-${id}-${i}` };
              if (node.type === 'branch')
                return ok(id, fate % 3 === 0 ? [] : fate % 2 ? ['true'] : ['false', 'true']);
              return ok(`${id}@${i}`);
            },
            (n) => picks[pickI++ % picks.length]! % n,
          );
          // At most once per (node, item).
          for (const count of r.runs.values()) expect(count).toBe(1);
          // Ended: no step left non-terminal unless the run failed fast under 'stop'.
          const open = [...r.steps.values()].filter(
            (s) => s.status === 'pending' || s.status === 'running',
          );
          if (r.finished.status === 'completed' || doc.settings.errorHandling === 'continue')
            expect(open).toEqual([]);
          // Consistency of each top-level node (when the run ran to the end).
          if (open.length === 0) {
            for (const [id] of g.nodes) {
              if (g.bodyOf.has(id)) continue;
              const s = r.steps.get(stepKey(id, NO_ITEM));
              expect(s, `node ${id} has a final state`).toBeDefined();
              const inc = g.incoming.get(id)!;
              if (s!.status === 'skipped') {
                // Skipped ⇒ no incoming edge was live.
                for (const e of inc) {
                  const src = r.steps.get(stepKey(e.source, NO_ITEM));
                  const live =
                    e.kind === 'error'
                      ? src?.status === 'failed'
                      : src?.status === 'completed' &&
                        (!src.ports || src.ports.includes(e.sourceHandle)) &&
                        !(g.nodes.get(e.source)!.type === 'for-each' && e.sourceHandle === 'item');
                  if (
                    live &&
                    !(g.nodes.get(e.source)!.type === 'for-each' && e.sourceHandle === 'done')
                  ) {
                    throw new Error(`${id} skipped although ${e.source} → ${id} is live`);
                  }
                }
              } else if (id !== 'n0') {
                // Ran ⇒ every parent is terminal.
                for (const e of inc) {
                  const src = r.steps.get(stepKey(e.source, NO_ITEM));
                  expect(['completed', 'failed', 'skipped']).toContain(src?.status);
                }
              }
            }
          }
          // Body steps only exist for admitted items, within each loop's limit.
          for (const [fe, info] of g.forEach) {
            expect(r.maxInflight.get(fe) ?? 0).toBeLessThanOrEqual(info.concurrency);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
