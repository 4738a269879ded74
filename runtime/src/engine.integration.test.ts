import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database, type SqlExecutor } from '@gridflow/db';
import {
  createEngine,
  type EngineInternals,
  type EngineOptions,
  type SinkEvent,
} from './engine-impl.js';
import { pruneExecutions, getExecutionState, eventsAfter } from './execution-state.js';
import type { RuntimeEvent } from './engine.js';
import type { GridDocumentInput } from './document.js';
import type { Json } from './node-type.js';
import { grid as gridDoc, type EdgeSpec, type NodeSpec } from './testing/grid-builder.js';
import {
  createSandbox,
  seedGrid,
  testRegistry,
  testServices,
  uniquePrefix,
} from './testing/engine-fixture.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

const modes = [
  { name: 'embedded (PGlite, in-process queue)', kind: 'pglite' as const, redis: false },
  { name: 'scaled (PostgreSQL, BullMQ on Redis)', kind: 'postgres' as const, redis: true },
];

describe.each(modes)('engine: $name', ({ kind, redis }) => {
  let db: Database;
  let engine: EngineInternals;
  let ids: { workspaceId: string; gridId: string };
  const sandbox = createSandbox({ poolSize: 1 });
  const events: RuntimeEvent[] = [];
  const sunk: SinkEvent[] = [];

  beforeAll(async () => {
    ({ db, ids, engine } = await startEngine(kind, redis, sandbox, events, {
      queuePrefix: uniquePrefix('engine'),
      workers: 4,
      leaseMs: 3000,
      sweepIntervalMs: 500,
      staleMs: 3000,
      eventSink: async (tx: SqlExecutor, evs) => {
        // Proves we are inside the step's transaction: a query on the same executor works.
        await tx.query('SELECT 1');
        sunk.push(...evs);
      },
    }));
  });
  afterAll(() => stopEngine(engine, db, sandbox));

  const doc = (
    nodes: Array<NodeSpec | string>,
    edges: EdgeSpec[],
    settings: GridDocumentInput['settings'] = {},
  ) => gridDoc(nodes, edges, settings);

  async function run(
    document: ReturnType<typeof doc>,
    trigger: Json = { n: 21 },
    timeoutMs = 30_000,
  ) {
    const { executionId } = await engine.startRun({
      ...ids,
      gridVersionId: null,
      document,
      triggerType: 'manual',
      triggerData: trigger,
    });
    const summary = await engine.waitForCompletion(executionId, timeoutMs);
    if (!summary) throw new Error(`run ${executionId} did not finish in ${timeoutMs} ms`);
    return { executionId, summary };
  }

  async function steps(executionId: string) {
    const r = await db.sql.query<{
      node_id: string;
      item_index: number;
      status: string;
      attempt: number;
      error: { code: string; message: string } | null;
    }>(
      `SELECT node_id, item_index, status, attempt, error FROM execution_steps WHERE execution_id = $1 ORDER BY node_id, item_index`,
      [executionId],
    );
    return Object.fromEntries(
      r.rows.map((s) => [s.item_index < 0 ? s.node_id : `${s.node_id}#${s.item_index}`, s]),
    );
  }

  it('runs a linear grid, publishes ordered events and stores every step', async () => {
    const { executionId, summary } = await run(
      doc(['t', { id: 'a', config: { value: { hello: 'world' } } }, 'b'], ['t>a', 'a>b']),
    );
    expect(summary.status).toBe('completed');
    expect(summary.outputs).toEqual({ t: { n: 21 }, a: { hello: 'world' }, b: { hello: 'world' } });
    await new Promise((r) => setTimeout(r, 50));
    const mine = events.filter((e) => e.executionId === executionId);
    const seqs = mine.map((e) => e.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs.slice().sort((x, y) => x - y));
    expect(mine.at(-1)).toMatchObject({ type: 'run', status: 'completed' });
    expect(
      mine
        .filter((e) => e.type === 'step' && e.status === 'completed')
        .map((e) => (e as { nodeId: string }).nodeId),
    ).toEqual(['t', 'a', 'b']);
    const state = await getExecutionState(db, executionId, ids.workspaceId);
    expect(state!.run.status).toBe('completed');
    expect(state!.steps).toHaveLength(3);
    expect(await eventsAfter(db, executionId, state!.seq)).toEqual([]);
    expect((await eventsAfter(db, executionId, 0)).length).toBe(4);
    expect(sunk).toContainEqual(
      expect.objectContaining({ type: 'execution.completed', executionId }),
    );
  });

  it('starts a run with a caller-chosen id at most once (concurrent and repeated starts)', async () => {
    const document = doc(['t', { id: 'a', config: { value: { once: true } } }], ['t>a']);
    const executionId = randomUUID();
    const start = () =>
      engine.startRun({ ...ids, gridVersionId: null, document, triggerType: 'schedule', triggerData: { i: 1 }, executionId });
    const results = await Promise.all([start(), start(), start()]);
    expect(results.map((r) => r.executionId)).toEqual([executionId, executionId, executionId]);
    expect((await engine.waitForCompletion(executionId, 30_000))?.status).toBe('completed');
    expect((await start()).executionId).toBe(executionId);
    const n = await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM executions WHERE id = $1`, [executionId]);
    expect(n.rows[0]!.n).toBe(1);
    expect(Object.keys(await steps(executionId)).sort()).toEqual(['a', 't']);
    // Another workspace cannot take (or learn about) the id: its start fails.
    const other = await seedGrid(db);
    await expect(engine.startRun({ ...other, gridVersionId: null, document, triggerType: 'manual', triggerData: null, executionId })).rejects.toThrow();
    await expect(engine.startRun({ ...ids, gridVersionId: null, document, triggerType: 'manual', triggerData: null, executionId: 'not-a-uuid' })).rejects.toThrow('executionId must be a UUID');
  });

  it('skips the untaken branch, propagates the skip and still joins the taken path', async () => {
    const { executionId, summary } = await run(
      doc(
        [
          't',
          { id: 'if', type: 'branch', config: { condition: '{{ trigger.n > 10 }}' } },
          'yes',
          'no',
          'noAfter',
          'join',
        ],
        ['t>if', 'if.true>yes', 'if.false>no', 'no>noAfter', 'yes>join', 'noAfter>join'],
      ),
    );
    expect(summary.status).toBe('completed');
    const s = await steps(executionId);
    expect(s.no!.status).toBe('skipped');
    expect(s.noAfter!.status).toBe('skipped');
    expect(s.join!.status).toBe('completed');
    expect(summary.outputs.join).toEqual({ n: 21 });
  });

  it('fans out in parallel and joins all live parents', async () => {
    const { summary } = await run(
      doc(
        [
          't',
          { id: 'a', type: 'slow', config: { ms: 300 } },
          { id: 'b', type: 'slow', config: { ms: 300 } },
          { id: 'c', config: { value: 'C' } },
          'j',
        ],
        ['t>a', 't>b', 't>c', 'a>j', 'b>j', 'c>j'],
      ),
    );
    expect(summary.status).toBe('completed');
    expect(summary.outputs.j).toEqual({
      a: { slept: 300, input: { n: 21 } },
      b: { slept: 300, input: { n: 21 } },
      c: 'C',
    });
  });

  it('runs a for-each body per item and hands done the results in order', async () => {
    const { executionId, summary } = await run(
      doc(
        [
          't',
          { id: 'fe', type: 'for-each', config: { items: [1, 2, 3, 4], concurrency: 2 } },
          { id: 'x', type: 'expr', config: { value: '{{ item * 10 + itemIndex }}' } },
          'after',
        ],
        ['t>fe', 'fe.item>x', 'fe.done>after'],
      ),
    );
    expect(summary.status).toBe('completed');
    const results = [10, 21, 32, 43].map((value) => ({ value, evaluated: 42 }));
    expect(summary.outputs.after).toEqual(results);
    expect((summary.outputs.fe as { results: Json[] }).results).toEqual(results);
    const s = await steps(executionId);
    expect(Object.keys(s).filter((k) => k.startsWith('x#'))).toHaveLength(4);
  });

  it('routes a failure into the error edge with { error, input }', async () => {
    const { executionId, summary } = await run(
      doc(
        [
          't',
          { id: 'bad', type: 'fail-n-times', name: 'Bad', config: { times: 9, kind: 'fatal' } },
          'ok',
          'handler',
        ],
        ['t>bad', 'bad>ok', 'bad!>handler'],
      ),
    );
    expect(summary.status).toBe('completed');
    expect(summary.outputs.handler).toMatchObject({
      error: { message: 'planned failure 1', code: 'NON_RETRIABLE', kind: 'fatal' },
      input: { n: 21 },
    });
    expect((await steps(executionId)).ok!.status).toBe('skipped');
  });

  it('retries a transient failure with backoff, then succeeds', async () => {
    const started = Date.now();
    const { executionId, summary } = await run(
      doc(
        [
          't',
          {
            id: 'flaky',
            type: 'fail-n-times',
            config: { times: 2, retry: { maxAttempts: 3, backoffMs: 200, maxDelayMs: 1000 } },
          },
        ],
        ['t>flaky'],
      ),
    );
    expect(summary.status).toBe('completed');
    expect(summary.outputs.flaky).toMatchObject({ attempt: 3 });
    // Equal jitter: at least half of 200 + 400 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    // Attempt 1 is claimed by the trigger's completion (sticky execution: straight to running);
    // each retry goes back to pending with the next attempt number, then runs.
    const seen = events
      .filter(
        (e) =>
          e.executionId === executionId &&
          e.type === 'step' &&
          (e.status === 'pending' || e.status === 'running') &&
          (e as { nodeId: string }).nodeId === 'flaky',
      )
      .map((e) => `${e.status}:${(e as { attempt: number }).attempt}`);
    expect(seen).toEqual(['running:1', 'pending:2', 'running:2', 'pending:3', 'running:3']);
  });

  it('fails the run when retries are exhausted, and never retries a user error', async () => {
    const exhausted = await run(
      doc(
        ['t', { id: 'flaky', type: 'fail-n-times', name: 'Flaky', config: { times: 5 } }, 'next'],
        ['t>flaky', 'flaky>next'],
        {
          retry: { maxAttempts: 2, backoffMs: 10, maxDelayMs: 20 },
        },
      ),
    );
    expect(exhausted.summary.status).toBe('failed');
    expect(exhausted.summary.error!.message).toBe('Node "Flaky" failed: planned failure 2');
    const s = await steps(exhausted.executionId);
    expect(s.flaky).toMatchObject({ status: 'failed', attempt: 2 });
    expect(s.next!.status).toBe('skipped');
    const user = await run(
      doc(['t', { id: 'u', type: 'fail-n-times', config: { times: 5, kind: 'user' } }], ['t>u'], {
        retry: { maxAttempts: 5, backoffMs: 10, maxDelayMs: 20 },
      }),
    );
    expect(user.summary.status).toBe('failed');
    expect((await steps(user.executionId)).u).toMatchObject({ status: 'failed', attempt: 1 });
  });

  it('times a node out with the per-node limit', async () => {
    const started = Date.now();
    const { executionId, summary } = await run(
      doc(
        ['t', { id: 's', type: 'slow', name: 'Sleepy', config: { ms: 10_000, timeoutMs: 300 } }],
        ['t>s'],
      ),
    );
    expect(summary.status).toBe('failed');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await steps(executionId)).s!.error).toMatchObject({
      code: 'TIMEOUT',
      message: 'Node "Sleepy" did not finish within 300 ms.',
    });
  });

  it('fails a run that passes its run timeout', async () => {
    const { summary } = await run(
      doc(['t', { id: 's', type: 'slow', config: { ms: 10_000, ignoreSignal: true } }], ['t>s'], {
        timeoutMs: 400,
      }),
    );
    expect(summary.status).toBe('failed');
    expect(summary.error!.code).toBe('RUN_TIMEOUT');
  });

  it('cancels a run: the running node is aborted, nothing after it starts', async () => {
    const { executionId } = await engine.startRun({
      ...ids,
      gridVersionId: null,
      document: doc(
        ['t', { id: 's', type: 'slow', config: { ms: 20_000 } }, 'after'],
        ['t>s', 's>after'],
      ),
      triggerType: 'manual',
      triggerData: null,
    });
    await waitFor(async () => (await steps(executionId)).s?.status === 'running');
    const t0 = Date.now();
    expect(await engine.cancel(ids.workspaceId, executionId)).toBe(true);
    expect(await engine.cancel(ids.workspaceId, executionId)).toBe(false);
    const summary = await engine.waitForCompletion(executionId, 10_000);
    expect(summary!.status).toBe('cancelled');
    await waitFor(async () => (await steps(executionId)).s?.status === 'failed');
    expect(Date.now() - t0).toBeLessThan(5000);
    const s = await steps(executionId);
    expect(s.s!.error!.code).toBe('CANCELLED');
    expect(s.after).toBeUndefined();
  });

  it('waits for an approval, frees the worker, resumes once (duplicate resume absorbed)', async () => {
    const { executionId } = await engine.startRun({
      ...ids,
      gridVersionId: null,
      // 'after' takes a while: the duplicate resume must find the run still open (else 'not-waiting').
      document: doc(
        ['t', { id: 'ap', type: 'approval' }, { id: 'after', type: 'slow', config: { ms: 300 } }],
        ['t>ap', 'ap>after'],
      ),
      triggerType: 'manual',
      triggerData: { post: 1 },
    });
    await waitFor(async () => (await steps(executionId)).ap?.status === 'waiting');
    const ex = await db.sql.query<{ status: string }>(
      `SELECT status FROM executions WHERE id = $1`,
      [executionId],
    );
    expect(ex.rows[0]!.status).toBe('waiting');
    const wp = await db.sql.query<{ status: string; payload: Json }>(
      `SELECT status, payload FROM waitpoints WHERE execution_id = $1`,
      [executionId],
    );
    expect(wp.rows).toEqual([
      { status: 'waiting', payload: { question: 'ok?', input: { post: 1 } } },
    ]);
    expect(engine.runningSteps()).toBe(0);
    const [r1, r2] = await Promise.all([
      engine.resume(executionId, 'ap', { approved: true }),
      engine.resume(executionId, 'ap', { approved: false }),
    ]);
    expect([r1, r2].sort()).toEqual(['already-resumed', 'resumed']);
    const summary = await engine.waitForCompletion(executionId, 10_000);
    expect(summary!.status).toBe('completed');
    expect(['approved', 'rejected']).toContain(
      (summary!.outputs.after as { input: { decision: { approved: boolean } } }).input.decision.approved
        ? 'approved'
        : 'rejected',
    );
    expect(await engine.resume(executionId, 'ap', { approved: true })).toBe('not-waiting');
  });

  it('absorbs a resume that arrives before the wait is stored', async () => {
    const { executionId } = await engine.startRun({
      ...ids,
      gridVersionId: null,
      document: doc(['t', { id: 'ap', type: 'approval', config: { slowMs: 600 } }], ['t>ap']),
      triggerType: 'manual',
      triggerData: null,
    });
    await waitFor(async () => (await steps(executionId)).ap?.status === 'running');
    expect(await engine.resume(executionId, 'ap', 'early yes')).toBe('resumed');
    const summary = await engine.waitForCompletion(executionId, 10_000);
    expect(summary).toMatchObject({
      status: 'completed',
      outputs: { ap: { decision: 'early yes' } },
    });
  });

  it('delays with a timer job (no sleeping worker)', async () => {
    const started = Date.now();
    const { executionId } = await engine.startRun({
      ...ids,
      gridVersionId: null,
      document: doc(['t', { id: 'd', type: 'delay', config: { ms: 700 } }], ['t>d']),
      triggerType: 'manual',
      triggerData: null,
    });
    await waitFor(async () => (await steps(executionId)).d?.status === 'waiting');
    expect(engine.runningSteps()).toBe(0);
    const summary = await engine.waitForCompletion(executionId, 10_000);
    expect(summary!.status).toBe('completed');
    expect(summary!.outputs.d).toMatchObject({ resumed: { reason: 'timer' } });
    expect((summary!.outputs.d as { at: number }).at - started).toBeGreaterThanOrEqual(650);
  });

  it('reports expression errors naming node, field and expression', async () => {
    const { executionId, summary } = await run(
      doc(
        ['t', { id: 'a', name: 'Writer', config: { value: 'Hi {{ nodes.Ghost.output.text }}' } }],
        ['t>a'],
      ),
    );
    expect(summary.status).toBe('failed');
    const err = (await steps(executionId)).a!.error!;
    expect(err.message).toBe(
      'Node "Writer", field "value": expression {{ nodes.Ghost.output.text }} failed: node "Ghost" has no output',
    );
    expect(err.code).toBe('EXPRESSION_ERROR');
  });

  it('fails a step whose output is over the payload limit', async () => {
    const { executionId, summary } = await run(
      doc(['t', { id: 'b', type: 'big', name: 'Huge', config: { bytes: 1_100_000 } }], ['t>b']),
    );
    expect(summary.status).toBe('failed');
    const err = (await steps(executionId)).b!.error!;
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect(err.message).toMatch(
      /^Node "Huge" produced 1\.0 MiB of output, over this grid's limit of 1\.0 MiB per step/,
    );
  });

  it('delivers ctx.emit events through the event sink in the step transaction', async () => {
    const before = sunk.length;
    const { executionId } = await run(
      doc(['t', { id: 'e', type: 'emit', name: 'Emitter' }], ['t>e']),
    );
    const mine = sunk.slice(before).filter((e) => e.executionId === executionId);
    expect(mine.map((e) => e.type)).toEqual(['content.generated', 'execution.completed']);
    expect(mine[0]).toMatchObject({
      nodeId: 'e',
      workspaceId: ids.workspaceId,
      data: { by: 'Emitter', key: `gf-${executionId}.e.-1` },
    });
  });

  it('retries a failed run from the failed step, reusing completed outputs', async () => {
    const document = doc(
      [
        't',
        { id: 'a', type: 'slow', config: { ms: 1 } },
        {
          id: 'f',
          type: 'fail-n-times',
          config: { times: 1, kind: 'fatal', key: `retry-${kind}` },
        },
      ],
      ['t>a', 'a>f'],
    );
    const first = await run(document);
    expect(first.summary.status).toBe('failed');
    const { executionId } = await engine.startRun({
      ...ids,
      gridVersionId: null,
      document,
      triggerType: 'retry',
      triggerData: { n: 21 },
      retryOf: first.executionId,
    });
    const summary = await engine.waitForCompletion(executionId, 10_000);
    expect(summary!.status).toBe('completed');
    expect(summary!.outputs.a).toEqual(first.summary.outputs.a);
    const ran = events
      .filter((e) => e.executionId === executionId && e.type === 'step' && e.status === 'running')
      .map((e) => (e as { nodeId: string }).nodeId);
    expect(ran).toEqual(['f']);
  });

  it('prunes step data of old finished runs', async () => {
    const { executionId } = await run(
      doc(['t', { id: 'a', config: { value: 'keep me?' } }], ['t>a']),
    );
    expect(await pruneExecutions(db, { olderThanDays: 1 })).toBe(0);
    await db.sql.query(
      `UPDATE executions SET finished_at = now() - interval '3 days' WHERE id = $1`,
      [executionId],
    );
    expect(await pruneExecutions(db, { olderThanDays: 2 })).toBe(2);
    const r = await db.sql.query<{ output: Json; input: Json; status: string }>(
      `SELECT status, input, output FROM execution_steps WHERE execution_id = $1`,
      [executionId],
    );
    expect(
      r.rows.every((s) => s.output === null && s.input === null && s.status === 'completed'),
    ).toBe(true);
  });
  it('re-runs a step whose lease expired (its worker died) exactly once', async () => {
    const { executionId } = await engine.startRun({
      ...ids,
      gridVersionId: null,
      document: doc(['t', { id: 'ap', type: 'approval' }], ['t>ap']),
      triggerType: 'manual',
      triggerData: null,
    });
    await waitFor(async () => (await steps(executionId)).ap?.status === 'waiting');
    // Pretend a worker claimed it and died: running, lease already over.
    await db.sql.query(
      `UPDATE execution_steps SET status = 'running', started_at = now(), available_at = now() - interval '1 second' WHERE id = $1`,
      [`${executionId}.ap.-1`],
    );
    await db.sql.query(
      `UPDATE waitpoints SET status = 'resumed', resume_payload = '"after crash"' WHERE execution_id = $1`,
      [executionId],
    );
    const summary = await engine.waitForCompletion(executionId, 15_000);
    expect(summary).toMatchObject({
      status: 'completed',
      outputs: { ap: { decision: 'after crash' } },
    });
    expect((await steps(executionId)).ap).toMatchObject({ status: 'completed', attempt: 2 });
  });

  if (kind === 'pglite')
    it('re-runs pending and running steps when the embedded engine restarts', async () => {
      await engine.stop(); // the shared engine must not pick the steps up
      const common = {
        db,
        registry: testRegistry(),
        services: testServices(sandbox),
        leaseMs: 60_000,
      };
      // A process that accepts a run but dies before running it (no workers, then stopped).
      const dead = createEngine({ ...common, workers: 0 });
      await dead.start();
      const { executionId } = await dead.startRun({
        ...ids,
        gridVersionId: null,
        document: gridDoc(['t', 'a', 'b'], ['t>a', 't>b']),
        triggerType: 'manual',
        triggerData: 'x',
      });
      await dead.stop();
      // One step left 'running' by the crashed process (lease far in the future), one still pending.
      await db.sql.query(
        `INSERT INTO execution_steps (id, execution_id, workspace_id, node_id, item_index, attempt, status, input)
       VALUES ($1 || '.a.-1', $1, $2, 'a', -1, 1, 'pending', '"x"'), ($1 || '.b.-1', $1, $2, 'b', -1, 1, 'running', '"x"')`,
        [executionId, ids.workspaceId],
      );
      await db.sql.query(
        `UPDATE execution_steps SET status = 'completed', output = '"x"' WHERE id = $1`,
        [`${executionId}.t.-1`],
      );
      await db.sql.query(
        `UPDATE execution_steps SET started_at = now(), available_at = now() + interval '1 hour' WHERE id = $1`,
        [`${executionId}.b.-1`],
      );
      const next = createEngine({ ...common, workers: 2 });
      await next.start();
      const summary = await next.waitForCompletion(executionId, 10_000);
      await next.stop();
      expect(summary).toMatchObject({ status: 'completed', outputs: { t: 'x', a: 'x', b: 'x' } });
    });
});

describe.each([
  ...modes,
  // PGlite in-process: a statement blocks the thread while it runs (see groupCommitter's deferFirst).
  { name: 'embedded (PGlite on the caller thread)', kind: 'pglite' as const, redis: false, pgliteThread: 'caller' as const },
])('engine, steps run at a run\'s start: $name', ({ kind, redis, ...mode }) => {
  const pgliteThread = 'pgliteThread' in mode ? mode.pgliteThread : undefined;
  let db: Database;
  let engine: EngineInternals;
  let ids: { workspaceId: string; gridId: string };
  const sandbox = createSandbox({ poolSize: 1 });
  const events: RuntimeEvent[] = [];

  beforeAll(async () => {
    // A sink that writes in the run's own statements, as the server's does (event deliveries).
    const sink = Object.assign(
      async (tx: SqlExecutor, evs: SinkEvent[]) => {
        for (const e of evs)
          await tx.query(`INSERT INTO test_sink VALUES ($1, $2, $3)`, [e.executionId, e.type, e.nodeId ?? null]);
      },
      {
        sql: (evs: SinkEvent[], params: unknown[], gate: string) =>
          evs.map(
            (e) =>
              `INSERT INTO test_sink SELECT $${params.push(e.executionId)}::text, $${params.push(e.type)}::text, $${params.push(e.nodeId ?? null)}::text WHERE ${gate}`,
          ),
        // Run starts: one body of fixed text for any number of events (column arrays).
        sqlBatch: (params: unknown[], evs: SinkEvent[]) =>
          `INSERT INTO test_sink SELECT * FROM unnest($${params.push(evs.map((e) => e.executionId))}::text[], $${params.push(evs.map((e) => e.type))}::text[], $${params.push(evs.map((e) => e.nodeId ?? null))}::text[])`,
      },
    );
    ({ db, ids, engine } = await startEngine(kind, redis, sandbox, events, {
      queuePrefix: uniquePrefix('atstart'),
      workers: 2,
      eventSink: sink,
    }, pgliteThread));
    await db.sql.query(`CREATE TABLE test_sink (execution_id text, type text, node_id text)`);
  });
  afterAll(() => stopEngine(engine, db, sandbox));

  const start = (document: ReturnType<typeof gridDoc>, trigger: Json = { n: 21 }, waitsForResult = false) =>
    engine.startRun({
      ...ids,
      gridVersionId: null,
      document,
      triggerType: 'webhook',
      triggerData: trigger,
      waitsForResult,
    });
  const stored = async (executionId: string) => {
    const run = await db.sql.query<{ status: string; finished_at: Date | null; event_seq: number; steps_total: number; steps_completed: number }>(
      `SELECT status, finished_at, event_seq, steps_total, steps_completed FROM executions WHERE id = $1`,
      [executionId],
    );
    const st = await db.sql.query<{ node_id: string; status: string; attempt: number; output: Json; started_at: Date | null; finished_at: Date | null }>(
      `SELECT node_id, status, attempt, output, started_at, finished_at FROM execution_steps WHERE execution_id = $1 ORDER BY started_at, node_id`,
      [executionId],
    );
    return { run: run.rows[0]!, steps: Object.fromEntries(st.rows.map((r) => [r.node_id, r])), order: st.rows.map((r) => r.node_id) };
  };

  it('runs a chain of side-effect-free steps while the run starts: one insert stores it finished', async () => {
    const document = gridDoc(
      [
        { id: 't', type: 'pure-trigger' },
        { id: 'a', type: 'calc', config: { value: '{{ trigger.n * 2 }}' } },
        { id: 'b', type: 'calc', config: { value: '{{ nodes.a.output.value + 1 }}' } },
      ],
      ['t>a', 'a>b'],
    );
    const { executionId } = await start(document, { n: 21 }, true);
    // Already stored finished when startRun answers: no queue, no worker.
    const s = await stored(executionId);
    expect(s.run).toMatchObject({ status: 'completed', event_seq: 5, steps_total: 3, steps_completed: 3 });
    expect(s.run.finished_at).toBeInstanceOf(Date);
    expect(s.order).toEqual(['t', 'a', 'b']);
    expect(s.steps.a).toMatchObject({ status: 'completed', attempt: 1, output: { value: 42, input: { n: 21 }, call: 1 } });
    expect(s.steps.b).toMatchObject({ status: 'completed', output: { value: 43, call: 1 } });
    for (const id of ['t', 'a', 'b']) expect(s.steps[id]!.finished_at).toBeInstanceOf(Date);
    // Each step's own start and end (not the insert's time): one after the other.
    const ms = (d: Date | null) => d!.getTime();
    expect(ms(s.steps.t!.finished_at)).toBeLessThanOrEqual(ms(s.steps.a!.started_at));
    expect(ms(s.steps.a!.finished_at)).toBeLessThanOrEqual(ms(s.steps.b!.started_at));
    expect(ms(s.steps.b!.finished_at)).toBeLessThanOrEqual(ms(s.run.finished_at));
    // The sync caller gets the summary from memory.
    expect(await engine.waitForCompletion(executionId, 5_000)).toMatchObject({
      status: 'completed',
      outputs: { t: { n: 21 }, a: { value: 42 }, b: { value: 43 } },
    });
    // Published in order: the run, three completed steps, the run's end; the sink got the end too.
    const mineOf = () => events.filter((e) => e.executionId === executionId);
    await waitFor(async () => mineOf().length >= 5); // scaled: through Redis pub/sub
    const mine = mineOf();
    expect(mine.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(mine.map((e) => `${e.type}:${'nodeId' in e ? `${e.nodeId}:` : ''}${e.status}`)).toEqual([
      'run:running',
      'step:t:completed',
      'step:a:completed',
      'step:b:completed',
      'run:completed',
    ]);
    const sunk = await db.sql.query(`SELECT type FROM test_sink WHERE execution_id = $1`, [executionId]);
    expect(sunk.rows).toEqual([{ type: 'execution.completed' }]);
    // A client that missed it all gets the stored state at the last seq (socket.io reconnects).
    const missed = await eventsAfter(db, executionId, 0);
    expect(missed.map((e) => [e.seq, e.status])).toEqual([
      [5, 'completed'],
      [5, 'completed'],
      [5, 'completed'],
      [5, 'completed'],
    ]);
  });

  /** trigger → calc echoing `trigger.i`: a run that ends while it starts. */
  const echoI = gridDoc(
    [
      { id: 't', type: 'pure-trigger' },
      { id: 'a', type: 'calc', config: { value: '{{ trigger.i }}' } },
    ],
    ['t>a'],
  );

  it('many runs started at once share statements; each is stored once, a bad one fails alone', async () => {
    const document = echoI;
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        engine.startRun({
          ...ids,
          // One run names a grid that does not exist (a foreign key violation in its batch).
          ...(i === 17 ? { gridId: 'no-such-grid' } : {}),
          gridVersionId: null,
          document,
          triggerType: 'webhook',
          triggerData: { i },
          waitsForResult: true,
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(results[17]!.status).toBe('rejected');
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.executionId] : []));
    const summaries = await Promise.all(started.map((id) => engine.waitForCompletion(id, 10_000)));
    expect(summaries.map((x) => (x!.outputs.a as { value: number }).value)).toEqual(
      Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 17),
    );
    const rows = await db.sql.query<{ n: number; steps: number }>(
      `SELECT count(*)::int AS n, sum(steps_completed)::int AS steps FROM executions WHERE id = ANY($1::text[]) AND status = 'completed'`,
      [started],
    );
    expect(rows.rows[0]).toEqual({ n: 39, steps: 78 });
  });

  it('runs started in one event-loop turn are written by a few shared statements (group commit)', async () => {
    const document = echoI;
    // Each run is started from its own callback of one event-loop turn, as requests read from
    // different sockets are.
    const started = await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) =>
          new Promise<{ executionId: string }>((resolve, reject) =>
            setImmediate(() =>
              engine
                .startRun({ ...ids, gridVersionId: null, document, triggerType: 'webhook', triggerData: { i }, waitsForResult: true })
                .then(resolve, reject),
            ),
          ),
      ),
    );
    // created_at is the time of the statement's transaction: one value per statement (at most).
    const r = await db.sql.query<{ n: number; statements: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT created_at)::int AS statements FROM executions
        WHERE id = ANY($1::text[]) AND status = 'completed' AND steps_completed = 2`,
      [started.map((s) => s.executionId)],
    );
    expect(r.rows[0]!.n).toBe(40);
    // At most 32 runs per statement; on PostgreSQL the first run goes out alone, at once.
    expect(r.rows[0]!.statements).toBeLessThanOrEqual(3);
  });

  it('stops at the first step that is not side-effect free; the rest runs queued', async () => {
    const document = gridDoc(
      [
        { id: 't', type: 'pure-trigger' },
        { id: 'a', type: 'calc', config: { value: 1 } },
        { id: 's', type: 'slow', config: { ms: 30 } },
        { id: 'b', type: 'calc', config: { value: 2 } },
      ],
      ['t>a', 'a>s', 's>b'],
    );
    const { executionId } = await start(document);
    const s = await stored(executionId);
    expect(s.run.status).toBe('running');
    expect(s.steps.a).toMatchObject({ status: 'completed' });
    expect(['pending', 'running']).toContain(s.steps.s!.status);
    expect(s.steps.b).toBeUndefined();
    const summary = await engine.waitForCompletion(executionId, 10_000);
    expect(summary).toMatchObject({ status: 'completed', outputs: { a: { value: 1 }, b: { value: 2, call: 1 } } });
    expect((await stored(executionId)).order).toEqual(['t', 'a', 's', 'b']);
  });

  it('a side-effect-free step that fails, waits too long or emits is not run at the start but queued', async () => {
    // Fails: its failure is the queued step's, stored with the run.
    const failing = gridDoc(
      [
        { id: 't', type: 'pure-trigger' },
        { id: 'a', type: 'calc', config: { failTimes: 99 } },
      ],
      ['t>a'],
    );
    const f = await start(failing);
    expect((await stored(f.executionId)).steps.a!.status).not.toBe('completed');
    const fs = await engine.waitForCompletion(f.executionId, 10_000);
    expect(fs).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('calc failure') } });
    expect((await stored(f.executionId)).steps.a).toMatchObject({ status: 'failed', attempt: 1 });

    // Over the start's time budget (20 ms): stopped there, run again from the queue.
    const slow = gridDoc(
      [
        { id: 't', type: 'pure-trigger' },
        { id: 'a', type: 'calc', config: { sleepMs: 200, value: 'late' } },
      ],
      ['t>a'],
    );
    const l = await start(slow);
    const ls = await stored(l.executionId);
    expect(ls.run.status).toBe('running');
    expect(ls.steps.t!.status).toBe('completed');
    expect(ls.steps.a!.status).not.toBe('completed');
    expect(await engine.waitForCompletion(l.executionId, 10_000)).toMatchObject({
      status: 'completed',
      outputs: { a: { value: 'late', call: 2 } },
    });

    // Emits a domain event: queued, so the event is written once, with the step's completion.
    const emitting = gridDoc(
      [
        { id: 't', type: 'pure-trigger' },
        { id: 'a', type: 'calc', config: { emit: true } },
      ],
      ['t>a'],
    );
    const e = await start(emitting);
    expect(await engine.waitForCompletion(e.executionId, 10_000)).toMatchObject({ status: 'completed' });
    const sunk = await db.sql.query(`SELECT type, node_id FROM test_sink WHERE execution_id = $1 ORDER BY type`, [e.executionId]);
    expect(sunk.rows).toEqual([
      { type: 'content.generated', node_id: 'a' },
      { type: 'execution.completed', node_id: null },
    ]);
  });

  it('takes the untaken branch\'s skips into the same insert', async () => {
    const document = gridDoc(
      [
        { id: 't', type: 'pure-trigger' },
        { id: 'a', type: 'calc', config: { value: 'x' } },
        { id: 'br', type: 'branch', config: { condition: true } },
        { id: 'yes', type: 'calc', config: { value: 'yes' } },
        { id: 'no', type: 'calc', config: { value: 'no' } },
      ],
      ['t>a', 'a>br', 'br.true>yes', 'br.false>no'],
    );
    const { executionId } = await start(document);
    // The test branch node is not side-effect free: the chain stops before it.
    const s = await stored(executionId);
    expect(s.steps.a!.status).toBe('completed');
    expect(await engine.waitForCompletion(executionId, 10_000)).toMatchObject({
      status: 'completed',
      outputs: { yes: { value: 'yes' } },
    });
    const after = await stored(executionId);
    expect(after.steps.no!.status).toBe('skipped');
  });
});

/** A fresh database with a seeded grid and a started engine on it (test node types and services). */
async function startEngine(
  kind: 'pglite' | 'postgres',
  redis: boolean,
  sandbox: ReturnType<typeof createSandbox>,
  events: RuntimeEvent[],
  options: Omit<EngineOptions, 'db' | 'registry' | 'services'>,
  pgliteThread?: 'own' | 'caller',
) {
  const db = await createTestDatabase(kind, { pgliteThread });
  const ids = await seedGrid(db);
  const engine = createEngine({
    db,
    registry: testRegistry(),
    ...(redis ? { redisUrl: REDIS_URL } : {}),
    services: testServices(sandbox),
    ...options,
  });
  engine.onEvent((e) => events.push(e));
  await engine.start();
  return { db, ids, engine };
}

async function stopEngine(
  engine: EngineInternals | undefined,
  db: Database | undefined,
  sandbox: ReturnType<typeof createSandbox>,
) {
  await engine?.stop();
  await db?.close();
  sandbox.dispose();
}

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not met in time');
}

describe('engine, scaled: events of runs that end while they start', () => {
  // Two processes' engines on one database and Redis: `a` starts the runs, `b` listens.
  let db: Database;
  let ids: { workspaceId: string; gridId: string };
  let a: EngineInternals;
  let b: EngineInternals;
  const sandbox = createSandbox({ poolSize: 1 });
  const atA: RuntimeEvent[] = [];
  const atB: RuntimeEvent[] = [];
  const watchRepeatMs = 150; // kept by the others for 3x this

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    ids = await seedGrid(db);
    const common = {
      db,
      registry: testRegistry(),
      redisUrl: REDIS_URL,
      services: testServices(sandbox),
      queuePrefix: uniquePrefix('watch'),
      workers: 2,
      watchRepeatMs,
    };
    a = createEngine(common);
    b = createEngine(common);
    a.onEvent((e) => atA.push(e));
    b.onEvent((e) => atB.push(e));
    await a.start();
    await b.start();
    // Past the start-up period in which a process publishes everything (it has not yet heard
    // every watcher's repeat).
    await new Promise((r) => setTimeout(r, 3 * watchRepeatMs + 100));
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await db?.close();
    sandbox.dispose();
  });

  const pure = gridDoc(
    [
      { id: 't', type: 'pure-trigger' },
      { id: 'c', type: 'calc', config: { value: 7 } },
    ],
    ['t>c'],
  );
  async function runAtA(document: ReturnType<typeof gridDoc>) {
    const { executionId } = await a.startRun({
      ...ids,
      gridVersionId: null,
      document,
      triggerType: 'webhook',
      triggerData: {},
      waitsForResult: true,
    });
    expect(await a.waitForCompletion(executionId, 10_000)).toMatchObject({ status: 'completed' });
    return executionId;
  }
  const finished = (list: RuntimeEvent[], id: string) =>
    list.some((e) => e.executionId === id && e.type === 'run' && e.status === 'completed');
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('go to the starting process only while nobody watches the grid; to every process while someone does', async () => {
    const unwatched = await runAtA(pure);
    await settle();
    expect(finished(atA, unwatched)).toBe(true); // its own listeners (metrics, live sockets here)
    expect(finished(atB, unwatched)).toBe(false);
    // The run and its steps are stored like any other.
    const stored = await getExecutionState(db, unwatched, ids.workspaceId);
    expect(stored?.run.status).toBe('completed');
    expect(stored?.steps.map((s) => [s.nodeId, s.status]).sort()).toEqual([
      ['c', 'completed'],
      ['t', 'completed'],
    ]);

    const unwatch = b.watchGrid(ids.gridId);
    await settle(); // the control message reaches `a`
    const watched = await runAtA(pure);
    await waitFor(async () => finished(atB, watched));
    expect(atB.filter((e) => e.executionId === watched).map((e) => [e.type, e.status])).toEqual(
      atA.filter((e) => e.executionId === watched).map((e) => [e.type, e.status]),
    );
    // Still watched after several repeat periods (b repeats it).
    await new Promise((r) => setTimeout(r, 5 * watchRepeatMs));
    const later = await runAtA(pure);
    await waitFor(async () => finished(atB, later));

    unwatch();
    await new Promise((r) => setTimeout(r, 4 * watchRepeatMs)); // a forgets it
    const afterUnwatch = await runAtA(pure);
    await settle();
    expect(finished(atB, afterUnwatch)).toBe(false);
  });

  it('a run that goes on after its start is published whether or not its grid is watched', async () => {
    const queued = gridDoc(
      [
        { id: 't', type: 'pure-trigger' },
        { id: 's', type: 'slow', config: { ms: 20 } },
      ],
      ['t>s'],
    );
    const id = await runAtA(queued);
    await waitFor(async () => finished(atB, id));
  });
});
