/**
 * The durable engine: runs grids step by step on a queue, with PostgreSQL (or PGlite) as the
 * truth. One step = one queue job with a deterministic id. A worker claims the step with one SQL
 * statement, runs the node, then in ONE transaction stores the result, applies the planner's next
 * plan (new steps + outbox rows for their jobs) and updates the execution. A relay moves outbox
 * rows to the queue right after commit; a sweeper repairs what a crash left behind (pending steps
 * without a job, running steps whose worker died, outbox leftovers, run deadlines, due timers).
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Database, SqlExecutor } from '@gridflow/db';
import {
  gridDocumentSchema,
  retryPolicySchema,
  type GridDocument,
  type GridNode,
  type RetryPolicy,
} from './document.js';
import {
  CancelledError,
  classifyError,
  isRetryable,
  StepTimeoutError,
  UserError,
  type StepErrorInfo,
} from './errors.js';
import type {
  Engine,
  ExecutionStatus,
  ExecutionSummary,
  RunEvent,
  RuntimeEvent,
  StartRunInput,
  StepEvent,
  StepStatus,
} from './engine.js';
import type {
  DomainEvent,
  Embedding,
  HttpClient,
  Json,
  NodeContext,
  NodeEnvironment,
  NodeLogger,
  NodeRegistry,
  NodeResult,
  Sandbox,
  WaitRequest,
} from './node-type.js';
import {
  compileGrid,
  initialPlan,
  NO_ITEM,
  planNext,
  stepKey,
  type CompiledGrid,
  type Plan,
  type StepState,
} from './planner.js';
import { migrateDocument, type ValidationRegistry } from './validate.js';
import {
  buildNodesScope,
  evaluateTemplateOrExpression,
  resolveConfig,
  type ExpressionScope,
} from './expressions.js';
import {
  createMemoryBus,
  createMemoryQueue,
  type Bus,
  type JobData,
  type JobQueue,
  type QueuedJob,
} from './queue.js';
import { createBullQueue, createRedisBus } from './queue-bullmq.js';
import {
  loadRunSteps,
  planStatement,
  startsStatement,
  startsBatchStatement,
  stepId,
  toStepState,
  stepJobId,
  jsonText,
  writePlan,
  type NewStepRow,
  type OutboxRow,
  type PlanWrite,
} from './step-sql.js';
import { loadExecutionSummary, pruneExecutions } from './execution-state.js';

export interface EngineServices {
  sandbox: Sandbox;
  /** An HTTP client bound to the step's abort signal. */
  http: (signal: AbortSignal) => HttpClient;
  embed(text: string): Promise<Embedding>;
  encrypt(plaintext: string, context?: string): string;
  decrypt(ciphertext: string, context?: string): string;
  env: NodeEnvironment;
}

/** A domain or run event handed to the server inside the step's transaction (outbound webhooks). */
export interface SinkEvent {
  type: string;
  workspaceId: string;
  executionId: string;
  nodeId?: string;
  data: Json;
}

export interface EventSink {
  (tx: SqlExecutor, events: SinkEvent[]): Promise<void>;
  /**
   * The same writes as SQL statement bodies (usable as CTEs) that apply only when `gate` (an SQL
   * boolean) holds, their params appended to `params`: lets a step's completion be one statement.
   */
  sql?(events: SinkEvent[], params: unknown[], gate: string): string[];
  /**
   * The same writes for any number of events as ONE statement body whose text never changes (the
   * events go in as column arrays appended to `params`): lets run starts be one prepared statement.
   * Used only next to `sql` (which serves every other shape of statement).
   */
  sqlBatch?(params: unknown[], events: SinkEvent[]): string;
}

export interface EngineLogger {
  debug(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export interface EngineOptions {
  db: Database;
  registry: NodeRegistry;
  /** Set: BullMQ queue + Redis pub/sub (scaled). Unset: in-process queue and emitter (embedded). */
  redisUrl?: string;
  /** Queue and channel prefix; unique per deployment (and per test). Default `gridflow`. */
  queuePrefix?: string;
  /** In-process step concurrency; 0 = this process runs no steps (e.g. an API-only server). */
  workers: number;
  services: EngineServices;
  eventSink?: EventSink;
  logger?: EngineLogger;
  /** A running step's lease; renewed while it runs; expired = its worker died and the step is re-run. Default 30 s. */
  leaseMs?: number;
  /** Sweeper period. Default 5 s. */
  sweepIntervalMs?: number;
  /** A pending step untouched this long gets its job re-added (deduplicated by job id). Default 30 s. */
  staleMs?: number;
  /** Prune step data of runs finished longer ago than this. Default 30 days. */
  retentionDays?: number;
  /** Period of the retention job. Default 1 h. */
  retentionIntervalMs?: number;
  /** BullMQ lock duration / stalled check (re-delivery of a killed worker's job). Default 30 s each. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /**
   * Runs whose first steps this process may execute inline (without a queue round trip) when it
   * starts them: sync webhooks always ask; with queue workers, every run. Default max(workers, 32).
   */
  inlineCapacity?: number;
  /**
   * Time a run's start may spend running its first side-effect-free steps right away (see
   * runAtStart). Default 20 ms; 0 = never (every step but a pure trigger's is queued).
   */
  atStartBudgetMs?: number;
  /** How often a process repeats the grids it watches (Engine.watchGrid) to the others. Default 2 s. */
  watchRepeatMs?: number;
}

export interface EngineInternals extends Engine {
  readonly queue: JobQueue;
  /** Runs the sweeper once (tests). */
  sweep(): Promise<void>;
  /** The number of steps running in this process. */
  runningSteps(): number;
}

const silentLogger: EngineLogger = { debug() {}, info() {}, warn() {}, error() {} };
const OPEN_RUN = ['pending', 'running', 'waiting'];
const PREVIEW_BYTES = 2048;

/** The run's part of a ClaimRow. */
type RunBase = Pick<
  ClaimRow,
  | 'execution_id'
  | 'workspace_id'
  | 'grid_id'
  | 'grid_version_id'
  | 'trigger_type'
  | 'trigger_data'
  | 'run_started_at'
  | 'deadline_at'
>;

/**
 * A step claimed by this process as its run starts. Written out field by field: a spread of `base`
 * plus the step's fields made a slow dictionary-mode object (3 % of a sync webhook's CPU).
 */
function newClaimRow(
  base: RunBase,
  id: string,
  nodeId: string,
  itemIndex: number,
  input: Json | null,
  attempt: number,
  startedAt: Date,
  eventSeq: number,
): ClaimRow {
  return {
    id,
    execution_id: base.execution_id,
    node_id: nodeId,
    item_index: itemIndex,
    input,
    attempt,
    started_at: startedAt,
    workspace_id: base.workspace_id,
    grid_id: base.grid_id,
    grid_version_id: base.grid_version_id,
    trigger_type: base.trigger_type,
    trigger_data: base.trigger_data,
    run_started_at: base.run_started_at,
    deadline_at: base.deadline_at,
    event_seq: eventSeq,
    resume_payload: null,
    resumed: false,
  };
}

interface ClaimRow {
  id: string;
  execution_id: string;
  node_id: string;
  item_index: number;
  input: Json | null;
  attempt: number;
  started_at: Date;
  workspace_id: string;
  grid_id: string;
  grid_version_id: string | null;
  trigger_type: string;
  trigger_data: Json;
  run_started_at: Date | null;
  deadline_at: Date | null;
  event_seq: number;
  resume_payload: Json | null;
  resumed: boolean;
}

type Outcome =
  | { kind: 'completed'; output: Json; ports: string[] | null }
  | { kind: 'failed'; error: StepErrorInfo; retryDelayMs?: number }
  | { kind: 'wait'; wait: WaitRequest; hadResume: boolean };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Runs of up to this many steps come with their state when a queued step is claimed. */
const STATE_WITH_CLAIM_MAX_STEPS = 64;

/** A run's steps as one JSON array (one row per step), for reading a run's state in one statement. */
type StepsAgg = Array<
  [string, number, StepStatus, Json, Json, string[] | null, StepErrorInfo | null]
>;
const stepsAgg = (executionId: string) =>
  `(SELECT json_agg(json_build_array(st.node_id, st.item_index, st.status, st.input, st.output, st.ports, st.error))
    FROM execution_steps st WHERE st.execution_id = ${executionId})`;

function stepsFromAgg(rows: StepsAgg): Map<string, StepState> {
  const steps = new Map<string, StepState>();
  for (const [node_id, item_index, status, input, output, ports, error] of rows)
    steps.set(
      stepKey(node_id, item_index),
      toStepState({ node_id, item_index, status, input, output, ports, error }),
    );
  return steps;
}

interface CachedRun {
  seq: number;
  steps: Map<string, StepState>;
  /** The run row's status and start as of `seq`. */
  status: ExecutionStatus;
  startedAt: Date | null;
}

export function createEngine(options: EngineOptions): EngineInternals {
  const { db, registry, services } = options;
  const sql = db.sql;
  const log = options.logger ?? silentLogger;
  const prefix = options.queuePrefix ?? 'gridflow';
  const leaseMs = options.leaseMs ?? 30_000;
  const sweepIntervalMs = options.sweepIntervalMs ?? 5_000;
  const staleMs = options.staleMs ?? 30_000;
  const scaled = !!options.redisUrl;
  const queue: JobQueue = scaled
    ? createBullQueue({
        redisUrl: options.redisUrl!,
        prefix,
        ...(options.lockDurationMs ? { lockDurationMs: options.lockDurationMs } : {}),
        ...(options.stalledIntervalMs ? { stalledIntervalMs: options.stalledIntervalMs } : {}),
      })
    : createMemoryQueue();
  const bus: Bus = scaled ? createRedisBus(options.redisUrl!, prefix) : createMemoryBus();

  const listeners = new Set<(e: RuntimeEvent) => void>();
  /** executionId → abort controllers of its steps running in this process. */
  const running = new Map<string, Set<StepAbort>>();
  const runningSteps = new Map<string, { executionId: string }>();
  const grids = new Map<string, CompiledGrid>();
  const runCache = new Map<string, CachedRun>();
  const timers: NodeJS.Timeout[] = [];
  /** Runs someone in this process waits for, and their summaries once finished here. */
  const completionWaiters = new Map<string, number>();
  const localSummaries = new Map<string, ExecutionSummary>();
  const inlineCapacity = options.inlineCapacity ?? Math.max(options.workers, 32);
  const atStartBudgetMs = options.atStartBudgetMs ?? 20;
  /** A run may end at its start only when its end's events can be written by the same statement. */
  const canFinishAtStart = !options.eventSink || !!options.eventSink.sql;
  /** Summaries of runs that ended at their start, for the caller's waitForCompletion (sync webhooks). */
  const finishedAtStart = new Map<string, { summary: ExecutionSummary; at: number }>();
  /** Keeps a summary for the caller's waitForCompletion; ones nobody asked for within 60 s are dropped. */
  function keepFinishedAtStart(executionId: string, summary: ExecutionSummary) {
    const now = Date.now();
    for (const [id, f] of finishedAtStart) {
      if (now - f.at < 60_000) break; // insertion order = age order
      finishedAtStart.delete(id);
    }
    finishedAtStart.set(executionId, { summary, at: now });
  }
  /** Inline chains started by startRun that are still running here, and the runs they execute. */
  let inlineActive = 0;
  const inlineChains = new Set<Promise<void>>();
  const inlineRuns = new Map<string, number>();
  /** Waiters of runs in this process (sync webhooks), woken directly when the run ends here. */
  const localWakers = new Map<string, Set<() => void>>();
  let started = false;
  let eventsSubscribed = false;
  /** Grids watched here (count of watchers) and elsewhere (until when, from the control channel). */
  const watchedHere = new Map<string, number>();
  const watchedElsewhere = new Map<string, number>();
  const WATCH_REPEAT_MS = options.watchRepeatMs ?? 2_000;
  const WATCH_KEEP_MS = 3 * WATCH_REPEAT_MS;
  /** Until then this process may not have heard every watcher's repeat yet: it publishes everything. */
  let publishAllUntil = Date.now() + WATCH_KEEP_MS;
  function gridWatched(gridId: string): boolean {
    if (watchedHere.has(gridId)) return true;
    const now = Date.now();
    if (now < publishAllUntil) return true;
    const until = watchedElsewhere.get(gridId);
    if (until === undefined) return false;
    if (until > now) return true;
    watchedElsewhere.delete(gridId);
    return false;
  }
  function onWatchMessage(gridIds: unknown) {
    if (!Array.isArray(gridIds)) return;
    const until = Date.now() + WATCH_KEEP_MS;
    for (const g of gridIds) if (typeof g === 'string') watchedElsewhere.set(g, until);
  }
  let stopping = false;
  const unsubs: Array<() => void> = [];

  // ------------------------------------------------------------------ caches

  function cacheGrid(key: string, g: CompiledGrid) {
    if (grids.size >= 500) grids.delete(grids.keys().next().value!);
    grids.set(key, g);
  }

  function compile(doc: unknown): CompiledGrid {
    const parsed = gridDocumentSchema.parse(doc);
    const migrated = migrateDocument(parsed, registry as unknown as ValidationRegistry).document;
    return compileGrid(migrated, registry);
  }

  async function gridFor(
    executionId: string,
    gridVersionId: string | null,
    q: SqlExecutor = sql,
  ): Promise<CompiledGrid> {
    const key = gridVersionId ? `v:${gridVersionId}` : `e:${executionId}`;
    const hit = grids.get(key);
    if (hit) return hit;
    const res = gridVersionId
      ? await q.query<{ document: unknown }>(`SELECT document FROM grid_versions WHERE id = $1`, [
          gridVersionId,
        ])
      : await q.query<{ document: unknown }>(`SELECT document FROM executions WHERE id = $1`, [
          executionId,
        ]);
    if (!res.rows[0]) throw new Error(`grid document of execution ${executionId} not found`);
    const g = compile(res.rows[0].document);
    cacheGrid(key, g);
    return g;
  }

  function cacheRun(executionId: string, run: CachedRun) {
    runCache.delete(executionId);
    if (runCache.size >= 2000) runCache.delete(runCache.keys().next().value!);
    runCache.set(executionId, run);
  }

  // ------------------------------------------------------------------ events

  function deliver(events: RuntimeEvent[]) {
    for (const e of events)
      for (const l of listeners) {
        try {
          l(e);
        } catch (err) {
          log.warn('event listener failed', { err: String(err) });
        }
      }
  }

  // Scaled: events published in one turn of the event loop go out as one Redis message.
  let toPublish: RuntimeEvent[] = [];
  let publishScheduled = false;
  function flushPublish() {
    publishScheduled = false;
    if (!toPublish.length) return;
    const batch = toPublish;
    toPublish = [];
    bus.publish('events', batch);
  }

  function publish(events: RuntimeEvent[]) {
    if (!events.length) return;
    if (!scaled) return deliver(events);
    // Every process (this one included) receives them through Redis, once, in publish order.
    for (const e of events) toPublish.push(e);
    if (!publishScheduled) {
      publishScheduled = true;
      setImmediate(flushPublish);
    }
  }

  function preview(output: Json | undefined): Json | undefined {
    if (output === undefined) return undefined;
    const s = jsonText(output) ?? 'null';
    if (s.length <= PREVIEW_BYTES) return output;
    return { truncated: true, preview: s.slice(0, PREVIEW_BYTES) };
  }

  interface RunInfo {
    id: string;
    workspace_id: string;
    grid_id: string;
  }

  function stepEvent(
    run: RunInfo,
    seq: number,
    nodeId: string,
    itemIndex: number,
    status: StepStatus,
    extra?: Partial<StepEvent>,
  ): StepEvent {
    const now = new Date().toISOString();
    const e: StepEvent = {
      type: 'step',
      seq,
      executionId: run.id,
      gridId: run.grid_id,
      workspaceId: run.workspace_id,
      nodeId,
      itemIndex: itemIndex === NO_ITEM ? null : itemIndex,
      status,
      attempt: 1,
      startedAt: status === 'running' ? now : null,
      finishedAt:
        status === 'completed' || status === 'failed' || status === 'skipped' ? now : null,
    };
    return extra ? Object.assign(e, extra) : e;
  }

  function runEvent(
    run: RunInfo,
    seq: number,
    status: ExecutionStatus,
    startedAt: Date | null,
    error?: StepErrorInfo,
  ): RunEvent {
    const final = status === 'completed' || status === 'failed' || status === 'cancelled';
    const e: RunEvent = {
      type: 'run',
      seq,
      executionId: run.id,
      gridId: run.grid_id,
      workspaceId: run.workspace_id,
      status,
      startedAt: startedAt ? startedAt.toISOString() : null,
      finishedAt: final ? new Date().toISOString() : null,
    };
    if (error) e.error = error;
    return e;
  }

  // ------------------------------------------------------------------ relay

  const toDelete: string[] = [];
  let deleting: Promise<void> | null = null;
  let deleteTimer: NodeJS.Timeout | null = null;

  function flushDeletes(): Promise<void> {
    if (deleting) return deleting;
    deleting = (async () => {
      while (toDelete.length) {
        const ids = toDelete.splice(0, 1000);
        try {
          await sql.query(`DELETE FROM outbox_jobs WHERE job_id = ANY($1::text[])`, [ids]);
        } catch (err) {
          log.warn('outbox cleanup failed (the poller retries)', { err: String(err) });
        }
      }
    })().finally(() => {
      deleting = null;
    });
    return deleting;
  }

  /**
   * Fast path after commit: push the jobs, then drop their outbox rows (the poller covers a crash
   * in between). Rows relayed in one turn of the event loop (many runs starting or steps
   * finishing at once) go to the queue in one call: one Redis pipeline instead of one each.
   */
  const relayWaiting: Array<{ rows: OutboxRow[]; done: () => void }> = [];
  let relayScheduled = false;
  function relay(rows: OutboxRow[]): Promise<void> {
    if (!rows.length) return Promise.resolve();
    return new Promise<void>((done) => {
      relayWaiting.push({ rows, done });
      if (!relayScheduled) {
        relayScheduled = true;
        setImmediate(() => void flushRelay());
      }
    });
  }

  async function flushRelay() {
    relayScheduled = false;
    const batch = relayWaiting.splice(0);
    const rows = batch.flatMap((b) => b.rows);
    try {
      await queue.add(
        rows.map((r) => ({
          jobId: r.jobId,
          data: r.data,
          ...(r.delayMs ? { delayMs: r.delayMs } : {}),
        })),
      );
      for (const r of rows) toDelete.push(r.jobId);
      // Deletes are batched: the poller only takes rows older than 2 s, so a short delay is safe
      // and saves a round trip per step when steps run one after another.
      if (toDelete.length >= 500) void flushDeletes();
      else if (!deleteTimer) {
        deleteTimer = setTimeout(() => {
          deleteTimer = null;
          void flushDeletes();
        }, 100);
        deleteTimer.unref?.();
      }
    } catch (err) {
      log.warn('relay to queue failed; the outbox poller will retry', { err: String(err) });
    } finally {
      for (const b of batch) b.done();
    }
  }

  // ------------------------------------------------------------------ plans → rows

  interface Applied {
    rows: NewStepRow[];
    outbox: OutboxRow[];
    failedSteps: Array<{ id: string; error: StepErrorInfo }>;
    events: RuntimeEvent[];
    seq: number;
    addTotal: number;
    addCompleted: number;
    addFailed: number;
    loopResults: Array<{ id: string; results: Json[] }>;
  }

  function applyPlanRows(
    run: RunInfo,
    seq: number,
    plan: Plan,
    steps: Map<string, StepState>,
    dropReady: boolean,
  ): Applied {
    const a: Applied = {
      rows: [],
      outbox: [],
      failedSteps: [],
      events: [],
      seq,
      addTotal: 0,
      addCompleted: 0,
      addFailed: 0,
      loopResults: [],
    };
    if (!dropReady) {
      for (const r of plan.ready) {
        const id = stepId(run.id, r.nodeId, r.itemIndex);
        a.rows.push({
          id,
          nodeId: r.nodeId,
          itemIndex: r.itemIndex,
          status: 'pending',
          attempt: 1,
          input: r.input,
          output: null,
          finished: false,
        });
        a.outbox.push({ jobId: stepJobId(id, 1), data: { k: 'step', e: run.id, s: id, a: 1 } });
        steps.set(stepKey(r.nodeId, r.itemIndex), { status: 'pending', input: r.input });
        a.events.push(stepEvent(run, ++a.seq, r.nodeId, r.itemIndex, 'pending'));
      }
    }
    for (const s of plan.skipped) {
      a.rows.push({
        id: stepId(run.id, s.nodeId, s.itemIndex),
        nodeId: s.nodeId,
        itemIndex: s.itemIndex,
        status: 'skipped',
        attempt: 0,
        input: null,
        output: null,
        finished: true,
      });
      steps.set(stepKey(s.nodeId, s.itemIndex), { status: 'skipped' });
      a.events.push(stepEvent(run, ++a.seq, s.nodeId, s.itemIndex, 'skipped'));
    }
    for (const p of plan.passedThrough) {
      a.rows.push({
        id: stepId(run.id, p.nodeId, p.itemIndex),
        nodeId: p.nodeId,
        itemIndex: p.itemIndex,
        status: 'completed',
        attempt: 0,
        input: p.input,
        output: p.output,
        finished: true,
      });
      steps.set(stepKey(p.nodeId, p.itemIndex), {
        status: 'completed',
        input: p.input,
        output: p.output,
        ports: null,
      });
      a.addCompleted++;
      a.events.push(
        stepEvent(run, ++a.seq, p.nodeId, p.itemIndex, 'completed', {
          outputPreview: preview(p.output) as Json,
        }),
      );
    }
    for (const f of plan.failedLoops) {
      a.failedSteps.push({ id: stepId(run.id, f.nodeId, f.itemIndex), error: f.error });
      const k = stepKey(f.nodeId, f.itemIndex);
      steps.set(k, { ...steps.get(k)!, status: 'failed', error: f.error });
      a.addFailed++;
      a.events.push(stepEvent(run, ++a.seq, f.nodeId, f.itemIndex, 'failed', { error: f.error }));
    }
    for (const l of plan.finishedLoops) {
      a.loopResults.push({ id: stepId(run.id, l.nodeId, l.itemIndex), results: l.results });
      const k = stepKey(l.nodeId, l.itemIndex);
      const st = steps.get(k);
      if (st && st.output && typeof st.output === 'object' && !Array.isArray(st.output)) {
        steps.set(k, { ...st, output: { ...st.output, results: l.results } });
      }
    }
    a.addTotal = a.rows.length;
    return a;
  }

  /**
   * A pending row of `a` that this process runs itself (claimed inline, or run at the run's start):
   * its queue job is dropped. Returns the index of its 'pending' event in `a.events` (-1: none).
   */
  function takeOwnStep(a: Applied, r: NewStepRow): number {
    const jobId = stepJobId(r.id, r.attempt);
    a.outbox = a.outbox.filter((o) => o.jobId !== jobId);
    return a.events.findIndex(
      (e) =>
        e.type === 'step' &&
        e.status === 'pending' &&
        e.nodeId === r.nodeId &&
        (e.itemIndex ?? NO_ITEM) === r.itemIndex,
    );
  }

  /**
   * Sticky execution: the first newly ready step of `a` is created already claimed by this process
   * ('running', with a lease the heartbeat renews) instead of getting a queue job, and the caller
   * runs it right away. Its row is written in the same statement or transaction as the plan, so a
   * crash before it finishes leaves a running step whose lease expires: the sweeper then gives it
   * a queue job (next attempt) and another worker runs it. `event_seq` is set by the caller.
   */
  function claimInline(a: Applied, steps: Map<string, StepState>, base: RunBase): ClaimRow | null {
    const r = a.rows.find((x) => x.status === 'pending');
    if (!r) return null;
    // Never in the same millisecond as the run's start (the trigger's start) or as a step that ran
    // at the run's start (those are in `a.rows`): steps sort by their start.
    let after = base.run_started_at?.getTime() ?? 0;
    for (const x of a.rows)
      if (x.startedAt && x.startedAt.getTime() > after) after = x.startedAt.getTime();
    const startedAt = new Date(Math.max(Date.now(), after + 1));
    r.status = 'running';
    r.startedAt = startedAt;
    r.leaseMs = leaseMs;
    const at = takeOwnStep(a, r);
    if (at >= 0) {
      // Its 'pending' event was made for this plan (applyPlanRows): it becomes 'running' in place.
      const ev = a.events[at] as StepEvent;
      ev.status = 'running';
      ev.startedAt = startedAt.toISOString();
    }
    steps.set(stepKey(r.nodeId, r.itemIndex), { status: 'running', input: r.input });
    return newClaimRow(base, r.id, r.nodeId, r.itemIndex, r.input, r.attempt, startedAt, a.seq);
  }

  /**
   * Steps of side-effect-free nodes (the trigger, code, transform, branch: nothing leaves such a
   * step but its output) that become ready one after the other as a run starts are run right here,
   * within `atStartBudgetMs`, and stored completed by the run's first statement, with the steps they
   * make ready or with the run's end. A crash before that statement leaves nothing behind, as a crash
   * before any start would (the caller has no answer yet). A step that fails, waits, emits an event,
   * runs over the budget or is not side-effect free is not run here: it is stored pending and runs
   * as a queued step like any other (and fails there if it fails). Null: nothing was run here (or
   * the outcome cannot be written as one insert); start the run from `initial`.
   */
  async function runAtStart(
    run: RunInfo,
    grid: CompiledGrid,
    initial: Plan,
    base: RunBase,
  ): Promise<{
    applied: Applied;
    steps: Map<string, StepState>;
    finished: { status: ExecutionStatus; error: StepErrorInfo | null } | null;
  } | null> {
    if (atStartBudgetMs <= 0) return null;
    const steps = new Map<string, StepState>();
    const errorHandling = grid.document.settings.errorHandling;
    const deadline = performance.now() + atStartBudgetMs;
    let plan = initial;
    const a = applyPlanRows(run, 1, plan, steps, false);
    let ran = 0;
    let lastStart = (base.run_started_at ?? new Date()).getTime() - 1;
    for (;;) {
      if (
        plan.finished ||
        plan.ready.length !== 1 ||
        plan.failedLoops.length ||
        plan.finishedLoops.length
      )
        break;
      const r = plan.ready[0]!;
      const node = grid.nodes.get(r.nodeId);
      const type = node ? registry.get(node.type) : undefined;
      if (
        !node ||
        node.disabled ||
        r.itemIndex !== NO_ITEM ||
        !(type?.pure || type?.sideEffectFree)
      )
        break;
      const left = deadline - performance.now();
      if (left <= 0) break;
      const id = stepId(run.id, r.nodeId, r.itemIndex);
      // Steps sort by their start: never two in the same millisecond.
      const startedAt = new Date(Math.max(Date.now(), lastStart + 1));
      const row = newClaimRow(base, id, r.nodeId, r.itemIndex, r.input, 1, startedAt, a.seq);
      const emitted: DomainEvent[] = [];
      let outcome: Outcome;
      try {
        outcome = await executeStep(row, grid, new StepAbort(), emitted, {
          steps,
          capMs: Math.max(1, Math.ceil(left)),
        });
      } catch {
        break;
      }
      if (outcome.kind !== 'completed' || emitted.length) break;
      lastStart = startedAt.getTime();
      // Its pending row, job and event become its completion.
      const own = a.rows.find((x) => x.id === id)!;
      const at = takeOwnStep(a, own);
      Object.assign(own, {
        status: 'completed',
        output: outcome.output,
        ports: outcome.ports,
        startedAt,
        finishedAt: new Date(),
        finished: true,
      } satisfies Partial<NewStepRow>);
      a.events[at] = completedEvent(row, run, a.events[at]!.seq, outcome.output, outcome.ports);
      a.addCompleted++;
      ran++;
      steps.set(stepKey(r.nodeId, r.itemIndex), {
        status: 'completed',
        input: r.input,
        output: outcome.output,
        ports: outcome.ports,
      });
      plan = planNext(grid, { steps, errorHandling });
      if (plan.failedLoops.length || plan.finishedLoops.length) return null;
      if (plan.finished && (plan.finished.status !== 'completed' || !canFinishAtStart)) return null;
      const b = applyPlanRows(run, a.seq, plan, steps, false);
      for (const x of b.rows) a.rows.push(x);
      for (const x of b.outbox) a.outbox.push(x);
      for (const x of b.events) a.events.push(x);
      a.seq = b.seq;
      a.addTotal += b.addTotal;
      a.addCompleted += b.addCompleted;
    }
    if (!ran) return null;
    return {
      applied: a,
      steps,
      finished: plan.finished
        ? { status: plan.finished.status, error: plan.finished.error ?? null }
        : null,
    };
  }

  /** Runs a chain claimed inline by startRun in the background (its slot is already taken). */
  function launchInline(row: ClaimRow, run: RunInfo) {
    inlineRuns.set(run.id, (inlineRuns.get(run.id) ?? 0) + 1);
    const p: Promise<void> = runChain(row, run, true)
      .catch((err) => log.error('inline step failed', { err: String(err), stepId: row.id }))
      .finally(() => {
        inlineActive--;
        const n = (inlineRuns.get(run.id) ?? 1) - 1;
        if (n > 0) inlineRuns.set(run.id, n);
        else inlineRuns.delete(run.id);
        inlineChains.delete(p);
      });
    inlineChains.add(p);
  }

  // ------------------------------------------------------------------ starting runs

  async function startRun(input: StartRunInput): Promise<{ executionId: string }> {
    if (input.executionId === undefined) return startNewRun(input, randomUUID());
    const executionId = input.executionId;
    if (!UUID_RE.test(executionId))
      throw new UserError('executionId must be a UUID', 'executionId');
    try {
      return await startNewRun(input, executionId);
    } catch (err) {
      // Started before (by this caller's earlier attempt, or another process): not again.
      if ((err as { code?: string }).code !== '23505') throw err;
      const r = await sql.query(`SELECT 1 FROM executions WHERE id = $1 AND workspace_id = $2`, [
        executionId,
        input.workspaceId,
      ]);
      if (!r.rows.length) throw err;
      return { executionId };
    }
  }

  // Group commit of run starts: the first statements of runs started while others are being
  // written share the next statement (one round trip, one commit for all). A failing batch is
  // retried one run per statement, so each caller gets its own run's outcome. One statement at a
  // time per process: a second one in flight made batches smaller and cost more in PostgreSQL
  // (sync webhooks at 16 connections: 1,234 req/s and 0.25 ms of PostgreSQL CPU per run with two,
  // 1,400 req/s and 0.17 ms with one).
  const MAX_START_BATCH = 32;
  const maxStartFlushers = 1;
  type StartWrite = {
    plan: PlanWrite;
    /** Events for the sink, written by the same statement (a run that ended while it started). */
    sinkEvents?: SinkEvent[];
    resolve: () => void;
    reject: (err: unknown) => void;
  };
  const submitStart = groupCommitter<StartWrite>(
    maxStartFlushers,
    MAX_START_BATCH,
    flushStarts,
    db.kind === 'pglite',
  );

  function insertRun(plan: PlanWrite, sinkEvents?: SinkEvent[]): Promise<void> {
    return new Promise((resolve, reject) => submitStart({ plan, sinkEvents, resolve, reject }));
  }

  /**
   * The first statement(s) of `batch`: one statement of fixed text (JSON rows, prepared once per
   * connection, never rebuilt) when the sink can write that way too, else one built per batch size.
   * On embedded PGlite the fixed form was once the slower one, when batches held one run; with the
   * batches the database thread gets now it is the faster one there too (sync webhooks: 1,844 vs
   * 2,036 req/s).
   */
  function startsSql(batch: StartWrite[]): { sql: string; params: unknown[] } {
    const sink = options.eventSink;
    const fixed = startsBatchStatement(
      batch,
      sink?.sqlBatch ? (params, evs) => sink.sqlBatch!(params, evs as SinkEvent[]) : undefined,
    );
    if (fixed) return fixed;
    const extra = (b: StartWrite) =>
      b.sinkEvents?.length && sink?.sql
        ? (params: unknown[]) => sink.sql!(b.sinkEvents!, params, 'TRUE')
        : undefined;
    if (batch.length === 1) return planStatement(batch[0]!.plan, undefined, extra(batch[0]!));
    return startsStatement(batch.map((b) => ({ plan: b.plan, extra: extra(b) })));
  }

  async function flushStarts(batch: StartWrite[]) {
    if (batch.length > 1) {
      try {
        const stmt = startsSql(batch);
        await sql.query(stmt.sql, stmt.params);
        for (const b of batch) b.resolve();
        return;
      } catch {
        // One by one below: only the runs whose own statement fails fail.
      }
    }
    for (const b of batch) {
      try {
        const stmt = startsSql([b]);
        await sql.query(stmt.sql, stmt.params);
        b.resolve();
      } catch (err) {
        b.reject(err);
      }
    }
  }

  /** Columns of a started run's execution row (see planStatement's insertExecution). */
  function newExecutionRow(
    input: StartRunInput,
    grid: CompiledGrid,
    startedAt: Date,
    deadlineAt: Date,
  ): Record<string, unknown> {
    return {
      grid_id: input.gridId,
      grid_version_id: input.gridVersionId,
      document: input.gridVersionId ? null : JSON.stringify(grid.document),
      trigger_type: input.triggerType,
      trigger_data: jsonText(input.triggerData ?? null),
      started_by_id: input.startedById ?? null,
      started_at: startedAt,
      deadline_at: deadlineAt,
    };
  }

  async function startNewRun(
    input: StartRunInput,
    executionId: string,
  ): Promise<{ executionId: string }> {
    // A published version is immutable: compile it once per process.
    const key = input.gridVersionId ? `v:${input.gridVersionId}` : `e:${executionId}`;
    let grid = grids.get(key);
    if (!grid) cacheGrid(key, (grid = compile(input.document)));
    const settings = grid.document.settings;
    const run: RunInfo = {
      id: executionId,
      workspace_id: input.workspaceId,
      grid_id: input.gridId,
    };
    const startedAt = new Date();
    let applied!: Applied;
    let steps!: Map<string, StepState>;
    let finished: Plan['finished'] = null;
    if (!input.retryOf) {
      // Hot path (webhooks): the run, its completed trigger, the steps it made ready (the first one
      // claimed by this process when it has room, the others with their outbox rows) in ONE statement.
      const deadlineAt = new Date(startedAt.getTime() + settings.timeoutMs);
      const base: RunBase = {
        execution_id: executionId,
        workspace_id: input.workspaceId,
        grid_id: input.gridId,
        grid_version_id: input.gridVersionId,
        trigger_type: input.triggerType,
        trigger_data: input.triggerData ?? null,
        run_started_at: startedAt,
        deadline_at: deadlineAt,
      };
      const plan = initialPlan(grid, input.triggerData, settings.errorHandling);
      const atStart = await runAtStart(run, grid, plan, base);
      let ended: { status: ExecutionStatus; error: StepErrorInfo | null } | null = null;
      if (atStart) ({ applied, steps, finished: ended } = atStart);
      else applied = applyPlanRows(run, 1, plan, (steps = new Map()), false);
      if (ended) {
        // The whole run ran here: stored finished by its first statement.
        const seq = applied.seq + 1;
        applied.events.push(runEvent(run, seq, ended.status, startedAt, ended.error ?? undefined));
        const sinkEvents = [finishedSinkEvent(run, ended.status, ended.error)];
        const sink = options.eventSink;
        await insertRun(
          {
            executionId,
            workspaceId: input.workspaceId,
            steps: applied.rows,
            outbox: [],
            failedSteps: [],
            execution: {
              seq,
              status: ended.status,
              finished: true,
              ...(ended.error ? { error: ended.error } : {}),
              addTotal: applied.addTotal,
              addCompleted: applied.addCompleted,
              addFailed: applied.addFailed,
            },
            insertExecution: newExecutionRow(input, grid, startedAt, deadlineAt),
          },
          sink?.sql ? sinkEvents : undefined,
        );
        if (input.waitsForResult) {
          keepFinishedAtStart(
            executionId,
            summarize(executionId, ended.status, ended.error ?? undefined, steps),
          );
        }
        const events = [runEvent(run, 1, 'running', startedAt), ...applied.events];
        // Ended before anyone could know its id: through Redis only when its grid is watched.
        if (scaled && !gridWatched(run.grid_id)) deliver(events);
        else publish(events);
        return { executionId };
      }
      let claimed: ClaimRow | null = null;
      if (
        (input.waitsForResult || options.workers > 0) &&
        !stopping &&
        inlineActive < inlineCapacity
      ) {
        inlineActive++; // reserved now: concurrent starts must not all pass the check
        claimed = claimInline(applied, steps, base);
        if (!claimed) inlineActive--;
      }
      try {
        await insertRun({
          executionId,
          workspaceId: input.workspaceId,
          steps: applied.rows,
          outbox: applied.outbox,
          failedSteps: [],
          execution: {
            seq: applied.seq,
            status: 'running',
            addTotal: applied.addTotal,
            addCompleted: applied.addCompleted,
            addFailed: 0,
          },
          insertExecution: newExecutionRow(input, grid, startedAt, deadlineAt),
        });
      } catch (err) {
        if (claimed) inlineActive--;
        throw err;
      }
      cacheRun(executionId, { seq: applied.seq, steps, status: 'running', startedAt });
      publish([runEvent(run, 1, 'running', startedAt), ...applied.events]);
      await relay(applied.outbox);
      if (claimed) launchInline(claimed, run);
      return { executionId };
    }
    await sql.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO executions (id, workspace_id, grid_id, grid_version_id, document, trigger_type, trigger_data, status,
           started_by_id, retry_of_id, event_seq, started_at, deadline_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::jsonb, 'running', $8, $9, 1, $10, $10::timestamptz + make_interval(secs => $11::bigint / 1000.0))`,
        [
          executionId,
          input.workspaceId,
          input.gridId,
          input.gridVersionId,
          input.gridVersionId ? null : JSON.stringify(grid.document),
          input.triggerType,
          JSON.stringify(input.triggerData ?? null),
          input.startedById ?? null,
          input.retryOf ?? null,
          startedAt,
          settings.timeoutMs,
        ],
      );
      let plan: Plan;
      if (input.retryOf) {
        // Retry from the failed step: completed steps of the old run are copied, the rest is planned again.
        await tx.query(
          `INSERT INTO execution_steps (id, execution_id, workspace_id, node_id, item_index, attempt, status, input, output, ports, started_at, finished_at)
           SELECT $1 || '.' || node_id || '.' || item_index, $1, workspace_id, node_id, item_index, attempt, status, input, output, ports, started_at, finished_at
           FROM execution_steps WHERE execution_id = $2 AND workspace_id = $3 AND status = 'completed'`,
          [executionId, input.retryOf, input.workspaceId],
        );
        steps = await loadRunSteps(tx, executionId);
        plan =
          grid.triggerId && steps.has(stepKey(grid.triggerId, NO_ITEM))
            ? planNext(grid, { steps, errorHandling: settings.errorHandling })
            : initialPlan(grid, input.triggerData, settings.errorHandling);
      } else {
        steps = new Map();
        plan = initialPlan(grid, input.triggerData, settings.errorHandling);
      }
      finished = plan.finished;
      applied = applyPlanRows(run, 1, plan, steps, false);
      const status = finished ? finished.status : 'running';
      if (finished)
        applied.events.push(
          runEvent(run, ++applied.seq, finished.status, startedAt, finished.error),
        );
      await writePlan(tx, {
        executionId,
        workspaceId: input.workspaceId,
        steps: applied.rows,
        outbox: applied.outbox,
        failedSteps: applied.failedSteps,
        execution: {
          seq: applied.seq,
          status,
          finished: !!finished,
          ...(finished?.error ? { error: finished.error } : {}),
          addTotal: applied.addTotal + (input.retryOf ? countCopied(steps) : 0),
          addCompleted: applied.addCompleted + (input.retryOf ? countCopied(steps) : 0),
          addFailed: applied.addFailed,
        },
      });
      if (finished && options.eventSink) {
        await options.eventSink(tx, [
          {
            type: `execution.${finished.status}`,
            workspaceId: input.workspaceId,
            executionId,
            data: { status: finished.status, error: (finished.error ?? null) as Json },
          },
        ]);
      }
    });
    cacheRun(executionId, {
      seq: applied.seq,
      steps,
      status: (finished as Plan['finished'])?.status ?? 'running',
      startedAt,
    });
    publish([runEvent(run, 1, 'running', startedAt), ...applied.events]);
    await relay(applied.outbox);
    return { executionId };
  }

  function countCopied(steps: Map<string, StepState>): number {
    let n = 0;
    for (const s of steps.values()) if (s.status === 'completed') n++;
    return n;
  }

  // ------------------------------------------------------------------ running a step

  async function handleJob(data: JobData): Promise<void> {
    if (data.k === 'timer') {
      await resume(data.e, data.n, { reason: 'timer' }, data.i);
      return;
    }
    // Without a copy of the run in this process (the usual case for a queued job), the claim also
    // returns the run's state (one snapshot), so the completion needs no extra read. Not for large
    // runs (for-each), whose completions re-read what they need.
    const withState = !runCache.has(data.e);
    const claim = await sql.query<
      ClaimRow & {
        run_status?: ExecutionStatus;
        run_steps?: StepsAgg | null;
      }
    >(
      `WITH s AS (
         UPDATE execution_steps SET status = 'running', started_at = now(), updated_at = now(),
           available_at = now() + make_interval(secs => $3::int / 1000.0)
         WHERE id = $1 AND status = 'pending' AND attempt = $2
           AND EXISTS (SELECT 1 FROM executions x WHERE x.id = execution_steps.execution_id AND x.status IN ('pending', 'running', 'waiting'))
         RETURNING id, execution_id, node_id, item_index, input, attempt, started_at),
       e AS (
         SELECT workspace_id, grid_id, grid_version_id, trigger_type, trigger_data, started_at AS run_started_at, deadline_at, event_seq${
           withState
             ? `, status AS run_status,
           CASE WHEN steps_total <= ${STATE_WITH_CLAIM_MAX_STEPS} THEN ${stepsAgg('executions.id')} END AS run_steps`
             : ''
         }
         FROM executions WHERE id = (SELECT execution_id FROM s))
       SELECT s.*, e.*, w.resume_payload, (w.id IS NOT NULL) AS resumed
       FROM s CROSS JOIN e
       LEFT JOIN waitpoints w ON w.execution_id = s.execution_id AND w.node_id = s.node_id AND w.item_index = s.item_index AND w.status = 'resumed'`,
      [data.s, data.a, leaseMs],
    );
    const row = claim.rows[0];
    if (!row) return; // already taken, finished, cancelled, or a stale duplicate: nothing to do
    const { run_status, run_steps, ...claimed } = row;
    if (run_steps && run_status) {
      // The snapshot predates this claim: the claimed step is shown pending (runClaimed marks it).
      cacheRun(claimed.execution_id, {
        seq: claimed.event_seq,
        status: run_status,
        startedAt: claimed.run_started_at,
        steps: stepsFromAgg(run_steps),
      });
    }
    const run: RunInfo = {
      id: claimed.execution_id,
      workspace_id: claimed.workspace_id,
      grid_id: claimed.grid_id,
    };
    await runChain(claimed, run, false);
  }

  /**
   * Runs a claimed step, then the step its completion claimed for this process (sticky execution),
   * and so on until a completion claims nothing (fan-out's other branches went to the queue, the
   * run waits or ended, or this process is stopping).
   */
  async function runChain(first: ClaimRow, run: RunInfo, announced: boolean): Promise<void> {
    let row: ClaimRow | null = first;
    while (row) {
      row = await runClaimed(row, run, announced);
      announced = true; // a step claimed by a completion was announced in that completion's events
    }
  }

  async function runClaimed(
    row: ClaimRow,
    run: RunInfo,
    announced: boolean,
  ): Promise<ClaimRow | null> {
    if (!announced) {
      // The claim does not touch the run row (no lock on the hot row, no deadlock with a transaction
      // holding it): 'running' events carry the run's current seq. The planner treats pending and
      // running alike, so this process's cached state stays valid.
      const cached = runCache.get(row.execution_id);
      if (cached && cached.seq === row.event_seq) {
        const k = stepKey(row.node_id, row.item_index);
        cached.steps.set(k, {
          ...(cached.steps.get(k) ?? { input: row.input }),
          status: 'running',
        });
      }
      publish([
        stepEvent(run, row.event_seq, row.node_id, row.item_index, 'running', {
          attempt: row.attempt,
          startedAt: row.started_at.toISOString(),
        }),
      ]);
    }

    const ctrl = new StepAbort();
    let set = running.get(row.execution_id);
    if (!set) running.set(row.execution_id, (set = new Set()));
    set.add(ctrl);
    runningSteps.set(row.id, { executionId: row.execution_id });
    const domainEvents: DomainEvent[] = [];
    let outcome: Outcome;
    let grid: CompiledGrid | undefined;
    try {
      grid = await gridFor(row.execution_id, row.grid_version_id);
      outcome = await executeStep(row, grid, ctrl, domainEvents);
    } catch (err) {
      outcome = { kind: 'failed', error: classifyError(err) };
    } finally {
      set.delete(ctrl);
      if (!set.size) running.delete(row.execution_id);
      runningSteps.delete(row.id);
    }
    return complete(row, run, grid, outcome, domainEvents);
  }

  function retryPolicy(node: GridNode, grid: CompiledGrid): RetryPolicy {
    const own = node.config.retry;
    if (own && typeof own === 'object') {
      const r = retryPolicySchema.partial().safeParse(own);
      if (r.success) return { ...grid.document.settings.retry, ...stripUndefined(r.data) };
    }
    return grid.document.settings.retry;
  }

  async function buildScope(
    row: ClaimRow,
    grid: CompiledGrid,
    item: { value: Json; index: number } | undefined,
    local?: Map<string, StepState>,
  ): Promise<ExpressionScope> {
    let outputs: Array<{ node_id: string; item_index: number; output: Json }>;
    const cached = runCache.get(row.execution_id);
    const known = local ?? (cached && cached.seq === row.event_seq ? cached.steps : undefined);
    if (known) {
      outputs = [];
      for (const [k, s] of known) {
        if (s.status !== 'completed') continue;
        const at = k.lastIndexOf('#');
        const idx = Number(k.slice(at + 1));
        if (idx === NO_ITEM || idx === row.item_index)
          outputs.push({ node_id: k.slice(0, at), item_index: idx, output: s.output ?? null });
      }
    } else {
      const res = await sql.query<{ node_id: string; item_index: number; output: Json }>(
        `SELECT node_id, item_index, output FROM execution_steps
         WHERE execution_id = $1 AND status = 'completed' AND item_index IN (-1, $2)`,
        [row.execution_id, row.item_index],
      );
      outputs = res.rows;
    }
    // A body node's own item wins over the loop-level step of the same node.
    outputs.sort((a, b) => a.item_index - b.item_index);
    const byNode = new Map<string, Json>();
    for (const o of outputs) byNode.set(o.node_id, o.output ?? null);
    const nodes = buildNodesScope(
      [...byNode].map(([id, output]) => ({ id, name: grid.nodes.get(id)?.name ?? id, output })),
    );
    return {
      trigger: row.trigger_data ?? null,
      nodes,
      ...(item ? { item: item.value, itemIndex: item.index } : {}),
      run: {
        id: row.execution_id,
        gridId: row.grid_id,
        startedAt: (row.run_started_at ?? new Date()).toISOString(),
      },
      input: row.input ?? null,
    };
  }

  /**
   * `at.steps`: the run's state when it is not stored yet (runAtStart); `at.capMs`: a tighter time
   * limit than the node's.
   */
  async function executeStep(
    row: ClaimRow,
    grid: CompiledGrid,
    ctrl: StepAbort,
    emitted: DomainEvent[],
    at?: { steps: Map<string, StepState>; capMs: number },
  ): Promise<Outcome> {
    const node = grid.nodes.get(row.node_id);
    if (!node)
      return {
        kind: 'failed',
        error: {
          message: `node "${row.node_id}" is not in this grid version`,
          code: 'UNKNOWN_NODE',
          kind: 'fatal',
        },
      };
    const type = registry.get(node.type);
    if (!type) {
      return {
        kind: 'failed',
        error: classifyError(
          new UserError(
            `Node "${node.name}": node type "${node.type}" is not installed on this server.`,
            undefined,
            'UNKNOWN_NODE_TYPE',
          ),
        ),
      };
    }
    const settings = grid.document.settings;
    let item: { value: Json; index: number } | undefined;
    if (row.item_index !== NO_ITEM) {
      const fe = grid.bodyOf.get(node.id);
      // The list lives on the for-each step; read one element in SQL unless this process has it.
      const cached = fe
        ? runCache.get(row.execution_id)?.steps.get(stepKey(fe, NO_ITEM))
        : undefined;
      let value: Json | undefined;
      if (cached?.output && typeof cached.output === 'object' && !Array.isArray(cached.output)) {
        value = ((cached.output as { items?: Json[] }).items ?? [])[row.item_index];
      } else if (fe) {
        const r = await sql.query<{ v: Json }>(
          `SELECT output->'items'->$2::int AS v FROM execution_steps WHERE id = $1`,
          [stepId(row.execution_id, fe, NO_ITEM), row.item_index],
        );
        value = r.rows[0]?.v ?? null;
      }
      item = { value: value ?? null, index: row.item_index };
    }
    let scope: ExpressionScope | undefined;
    // Method shorthand, not named arrows, for the per-step functions here and in `ctx`: tsx's
    // transform renames every named arrow with Object.defineProperty each time it is created.
    const lazy = {
      async scope(): Promise<ExpressionScope> {
        return (scope ??= await buildScope(row, grid, item, at?.steps));
      },
      log(): NodeLogger {
        return {
          debug: (m, d) => log.debug(m, { ...d, executionId: row.execution_id, nodeId: node.id }),
          info: (m, d) => log.info(m, { ...d, executionId: row.execution_id, nodeId: node.id }),
          warn: (m, d) => log.warn(m, { ...d, executionId: row.execution_id, nodeId: node.id }),
          error: (m, d) => log.error(m, { ...d, executionId: row.execution_id, nodeId: node.id }),
        };
      },
    };

    const nodeTimeout =
      typeof node.config.timeoutMs === 'number' && node.config.timeoutMs > 0
        ? node.config.timeoutMs
        : settings.nodeTimeoutMs;
    const untilDeadline = row.deadline_at ? row.deadline_at.getTime() - Date.now() : Infinity;
    const timeoutMs = Math.max(1, Math.min(nodeTimeout, untilDeadline, at?.capMs ?? Infinity));
    const runTimedOut = untilDeadline <= nodeTimeout;

    let config: Record<string, unknown> = node.config;
    if (hasTemplatesCached(node)) {
      config = await resolveConfig(node.config, await lazy.scope(), {
        sandbox: services.sandbox,
        ...(type.rawFields ? { rawFields: type.rawFields } : {}),
        nodeName: node.name,
        nodeId: node.id,
      });
    }
    // A config without templates is the same on every run of this (immutable, cached) version:
    // validate it once. Templated configs are resolved, then validated, per step.
    let parsed: ReturnType<typeof type.configSchema.safeParse> | undefined;
    if (config === node.config) parsed = parsedConfigs.get(node);
    if (!parsed) {
      parsed = type.configSchema.safeParse(config);
      if (config === node.config) parsedConfigs.set(node, parsed);
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = issue.path.map(String).join('.');
      return {
        kind: 'failed',
        error: classifyError(
          new UserError(
            `Node "${node.name}": setting "${path || '(all)'}" is invalid: ${issue.message}`,
            `config.${path}`,
            'BAD_CONFIG',
          ),
        ),
      };
    }
    const sid = row.id;
    let httpClient: HttpClient | undefined;
    let nodeLog: NodeLogger | undefined; // made when the node logs
    const ctx: NodeContext<unknown> = {
      config: parsed.data,
      input: row.input ?? null,
      trigger: row.trigger_data ?? null,
      node: { id: node.id, name: node.name, type: node.type },
      execution: {
        id: row.execution_id,
        gridId: row.grid_id,
        workspaceId: row.workspace_id,
        mode: row.trigger_type === 'test' ? 'test' : 'production',
      },
      step: {
        id: sid,
        attempt: row.attempt,
        itemIndex: row.item_index === NO_ITEM ? null : row.item_index,
        idempotencyKey: `gf-${sid}`,
      },
      get signal() {
        return ctrl.signal;
      },
      get log() {
        return (nodeLog ??= lazy.log());
      },
      get http() {
        // Created on first use: most nodes never call out.
        return (httpClient ??= services.http(ctrl.signal));
      },
      sandbox: services.sandbox,
      db: db.prisma,
      decrypt: services.decrypt,
      encrypt: services.encrypt,
      embed: services.embed,
      env: services.env,
      emit(e) {
        emitted.push(e);
      },
      wait(request) {
        return { kind: 'wait', wait: request };
      },
      async evaluate(expression, extra) {
        return evaluateTemplateOrExpression(
          expression,
          await lazy.scope(),
          services.sandbox,
          extra,
        );
      },
    };
    // Added after the literal, not spread into it (a spread makes every step's context slower to build).
    if (item) ctx.item = item;
    if (row.resumed) ctx.resume = row.resume_payload ?? null;

    const aborted = new Promise<never>((_, reject) => {
      if (ctrl.aborted) reject(ctrl.reason);
      else ctrl.onAbort = reject;
    });
    aborted.catch(() => {});
    const timer = setTimeout(() => {
      ctrl.abort(
        new StepTimeoutError(
          runTimedOut
            ? `The run reached its time limit (${settings.timeoutMs} ms) while node "${node.name}" was running.`
            : `Node "${node.name}" did not finish within ${timeoutMs} ms.`,
        ),
      );
    }, timeoutMs);
    timer.unref?.();
    let result: NodeResult;
    try {
      result = await Promise.race([type.run(ctx as never), aborted]);
    } catch (err) {
      const info = classifyError(ctrl.aborted ? (ctrl.reason ?? err) : err);
      if (runTimedOut && info.code === 'TIMEOUT')
        return { kind: 'failed', error: { ...info, kind: 'fatal', code: 'RUN_TIMEOUT' } };
      const policy = retryPolicy(node, grid);
      if (isRetryable(info) && row.attempt < policy.maxAttempts) {
        return {
          kind: 'failed',
          error: info,
          retryDelayMs: backoff(policy, row.attempt, info.retryAfterMs),
        };
      }
      return { kind: 'failed', error: info };
    } finally {
      clearTimeout(timer);
    }
    if (result.kind === 'wait') return { kind: 'wait', wait: result.wait, hadResume: row.resumed };
    const out = result.output === undefined ? null : result.output;
    let size: number;
    try {
      size = Buffer.byteLength(jsonText(out));
    } catch {
      return {
        kind: 'failed',
        error: {
          message: `Node "${node.name}" returned an output that is not JSON.`,
          code: 'OUTPUT_NOT_JSON',
          kind: 'user',
        },
      };
    }
    if (size > settings.maxPayloadBytes) {
      return {
        kind: 'failed',
        error: {
          message: `Node "${node.name}" produced ${formatBytes(size)} of output, over this grid's limit of ${formatBytes(settings.maxPayloadBytes)} per step. Reduce the data (pick fields, paginate) or raise the limit in the grid settings.`,
          code: 'PAYLOAD_TOO_LARGE',
          kind: 'user',
        },
      };
    }
    return { kind: 'completed', output: out, ports: result.ports ?? null };
  }

  // ------------------------------------------------------------------ completing a step

  interface Completion {
    row: ClaimRow;
    run: RunInfo;
    grid: CompiledGrid | undefined;
    outcome: Outcome;
    domainEvents: DomainEvent[];
  }
  interface CompletionResult {
    published: RuntimeEvent[];
    outbox: OutboxRow[];
    newCache: CachedRun | null;
    runFinished: boolean;
    /** A step this completion claimed for this process to run next (sticky execution). */
    next: ClaimRow | null;
  }

  /** Everything a step's completion writes, inside the caller's transaction. */
  async function completeInTx(tx: SqlExecutor, c: Completion): Promise<CompletionResult> {
    const { row, run, grid, outcome } = c;
    let published: RuntimeEvent[] = [];
    let outbox: OutboxRow[] = [];
    let newCache: CachedRun | null = null;
    let runFinished = false;
    let next: ClaimRow | null = null;
    const done = (): CompletionResult => ({ published, outbox, newCache, runFinished, next });
    // Hot path (a node produced output): lock the run and store the step in one round trip. The
    // run's state is read only after this statement, i.e. after the lock is held.
    const fast = outcome.kind === 'completed' && !!grid;
    const exRes = fast
      ? await tx.query<{
          status: string;
          event_seq: number;
          run_started_at: Date | null;
          updated: number;
        }>(
          `WITH ex AS (SELECT status, event_seq, started_at AS run_started_at FROM executions WHERE id = $6 FOR UPDATE),
           u AS (UPDATE execution_steps SET status = 'completed', output = $4::jsonb, ports = $5::text[], error = NULL, finished_at = now(), updated_at = now()
                 WHERE id = $1 AND status = 'running' AND attempt = $2 AND started_at = $3
                   AND (SELECT status FROM ex) IN ('pending', 'running', 'waiting') RETURNING 1)
           SELECT ex.*, (SELECT count(*) FROM u)::int AS updated FROM ex`,
          [
            row.id,
            row.attempt,
            row.started_at,
            JSON.stringify((outcome as { output: Json }).output),
            (outcome as { ports: string[] | null }).ports,
            row.execution_id,
          ],
        )
      : await tx.query<{
          status: string;
          event_seq: number;
          run_started_at: Date | null;
          updated: number;
        }>(
          `SELECT status, event_seq, started_at AS run_started_at, 0 AS updated FROM executions WHERE id = $1 FOR UPDATE`,
          [row.execution_id],
        );
    const ex = exRes.rows[0];
    if (!ex) return done();
    let seq = ex.event_seq;
    const events: RuntimeEvent[] = [];
    const sinkEvents = sinkEventsOf(c);
    const open = OPEN_RUN.includes(ex.status);
    const guard = `id = $1 AND status = 'running' AND attempt = $2 AND started_at = $3`;
    const gp = [row.id, row.attempt, row.started_at];

    // The run ended meanwhile (cancelled, failed elsewhere): record what happened, plan nothing.
    if (!open || !grid) {
      const status =
        outcome.kind === 'completed' ? 'completed' : outcome.kind === 'wait' ? 'skipped' : 'failed';
      const error: StepErrorInfo | null =
        outcome.kind === 'failed'
          ? outcome.error
          : outcome.kind === 'wait'
            ? {
                message: 'The run ended while this step was running.',
                code: 'CANCELLED',
                kind: 'fatal',
              }
            : null;
      const r = await tx.query(
        `UPDATE execution_steps SET status = $4, output = $5::jsonb, ports = $6::text[], error = $7::jsonb, finished_at = now(), updated_at = now() WHERE ${guard}`,
        [
          ...gp,
          status,
          outcome.kind === 'completed' ? JSON.stringify(outcome.output) : null,
          outcome.kind === 'completed' ? outcome.ports : null,
          error ? JSON.stringify(error) : null,
        ],
      );
      if (!r.rowCount) return done();
      events.push(
        stepEvent(run, ++seq, row.node_id, row.item_index, status as StepStatus, {
          attempt: row.attempt,
          ...(error ? { error } : {}),
        }),
      );
      await tx.query(`UPDATE executions SET event_seq = $2 WHERE id = $1`, [row.execution_id, seq]);
      if (sinkEvents.length && options.eventSink) await options.eventSink(tx, sinkEvents);
      published = events;
      return done();
    }

    // 1. The step's own row.
    const k = stepKey(row.node_id, row.item_index);
    let own: StepState;
    const cached = runCache.get(row.execution_id);
    const useCache = cached && cached.seq === ex.event_seq;
    let stepsLoaded: Map<string, StepState> | null = useCache ? new Map(cached.steps) : null;
    if (outcome.kind === 'completed') {
      if (!ex.updated) return done(); // lost the lease: another worker re-ran this step
      own = { status: 'completed', input: row.input, output: outcome.output, ports: outcome.ports };
      events.push(completedEvent(row, run, ++seq, outcome.output, outcome.ports));
    } else if (outcome.kind === 'failed' && outcome.retryDelayMs !== undefined) {
      const r = await tx.query(
        `UPDATE execution_steps SET status = 'pending', attempt = attempt + 1, error = $4::jsonb, updated_at = now(),
           available_at = now() + make_interval(secs => $5::bigint / 1000.0) WHERE ${guard}`,
        [...gp, JSON.stringify(outcome.error), Math.round(outcome.retryDelayMs)],
      );
      if (!r.rowCount) return done();
      own = { status: 'pending', input: row.input };
      outbox.push({
        jobId: stepJobId(row.id, row.attempt + 1),
        data: { k: 'step', e: run.id, s: row.id, a: row.attempt + 1 },
        delayMs: outcome.retryDelayMs,
      });
      events.push(
        stepEvent(run, ++seq, row.node_id, row.item_index, 'pending', {
          attempt: row.attempt + 1,
          error: outcome.error,
        }),
      );
    } else if (outcome.kind === 'failed') {
      const r = await tx.query(
        `UPDATE execution_steps SET status = 'failed', error = $4::jsonb, finished_at = now(), updated_at = now() WHERE ${guard}`,
        [...gp, JSON.stringify(outcome.error)],
      );
      if (!r.rowCount) return done();
      own = { status: 'failed', input: row.input, error: outcome.error };
      events.push(
        stepEvent(run, ++seq, row.node_id, row.item_index, 'failed', {
          attempt: row.attempt,
          error: outcome.error,
        }),
      );
    } else {
      // Waiting. A resume that arrived while the node ran (before this wait was stored) is applied now.
      const wpRes = await tx.query<{ status: string }>(
        `SELECT status FROM waitpoints WHERE execution_id = $1 AND node_id = $2 AND item_index = $3 FOR UPDATE`,
        [row.execution_id, row.node_id, row.item_index],
      );
      const early = !outcome.hadResume && wpRes.rows[0]?.status === 'resumed';
      if (early) {
        const r = await tx.query(
          `UPDATE execution_steps SET status = 'pending', updated_at = now() WHERE ${guard}`,
          gp,
        );
        if (!r.rowCount) return done();
        own = { status: 'pending', input: row.input };
        outbox.push({
          jobId: `${stepJobId(row.id, row.attempt)}.w${seq + 1}`,
          data: { k: 'step', e: run.id, s: row.id, a: row.attempt },
        });
        events.push(
          stepEvent(run, ++seq, row.node_id, row.item_index, 'pending', { attempt: row.attempt }),
        );
      } else {
        const until = outcome.wait.until ? new Date(outcome.wait.until) : null;
        const r = await tx.query(
          `UPDATE execution_steps SET status = 'waiting', updated_at = now(), available_at = NULL WHERE ${guard}`,
          gp,
        );
        if (!r.rowCount) return done();
        await tx.query(
          `INSERT INTO waitpoints (id, execution_id, workspace_id, node_id, item_index, step_id, status, resume_at, payload)
           VALUES ($1, $2, $3, $4, $5, $6, 'waiting', $7, $8::jsonb)
           ON CONFLICT (execution_id, node_id, item_index)
           DO UPDATE SET status = 'waiting', resume_at = EXCLUDED.resume_at, payload = EXCLUDED.payload, resume_payload = NULL, resumed_at = NULL, created_at = now()`,
          [
            randomUUID(),
            run.id,
            run.workspace_id,
            row.node_id,
            row.item_index,
            row.id,
            until,
            JSON.stringify(outcome.wait.payload ?? null),
          ],
        );
        own = { status: 'waiting', input: row.input };
        if (until) {
          outbox.push({
            jobId: `${stepJobId(row.id, row.attempt)}.t${seq + 1}`,
            data: { k: 'timer', e: run.id, n: row.node_id, i: row.item_index },
            delayMs: Math.max(0, until.getTime() - Date.now()),
          });
        }
        events.push(
          stepEvent(run, ++seq, row.node_id, row.item_index, 'waiting', { attempt: row.attempt }),
        );
      }
    }

    // 2. The next plan, from the run's state (this process's copy when no one else changed it).
    const steps = stepsLoaded ?? (await loadRunSteps(tx, row.execution_id));
    stepsLoaded = steps;
    steps.set(k, own);
    const planned = planAfter(c, grid, steps, own, seq, ex.run_started_at);
    const { applied, failFast, addCompleted, addFailed, status, error } = planned;
    next = planned.next;
    runFinished = planned.runFinished;
    seq = applied.seq;
    outbox = outbox.concat(applied.outbox);
    for (const l of applied.loopResults) {
      await tx.query(
        `UPDATE execution_steps SET output = jsonb_set(COALESCE(output, '{}'::jsonb), '{results}', $2::jsonb) WHERE id = $1`,
        [l.id, JSON.stringify(l.results)],
      );
    }
    events.push(...applied.events);
    if (runFinished && failFast) {
      // Fail fast: drop what has not started; running steps finish but plan nothing.
      const dropped = await tx.query<{ node_id: string; item_index: number }>(
        `UPDATE execution_steps SET status = 'skipped', error = $2::jsonb, finished_at = now(), updated_at = now()
         WHERE execution_id = $1 AND status IN ('pending', 'waiting') RETURNING node_id, item_index`,
        [
          run.id,
          JSON.stringify({
            message: 'The run failed before this step ran.',
            code: 'RUN_FAILED',
            kind: 'fatal',
          }),
        ],
      );
      await tx.query(
        `UPDATE waitpoints SET status = 'cancelled' WHERE execution_id = $1 AND status = 'waiting'`,
        [run.id],
      );
      for (const d of dropped.rows) {
        events.push(stepEvent(run, ++seq, d.node_id, d.item_index, 'skipped'));
        steps.set(stepKey(d.node_id, d.item_index), { status: 'skipped' });
      }
      outbox = [];
    }
    if (status !== ex.status)
      events.push(runEvent(run, ++seq, status, ex.run_started_at, error ?? undefined));
    await writePlan(tx, {
      executionId: run.id,
      workspaceId: run.workspace_id,
      steps: applied.rows,
      outbox,
      failedSteps: applied.failedSteps,
      execution: {
        seq,
        status,
        finished: runFinished,
        ...(error !== undefined ? { error } : {}),
        addTotal: applied.addTotal,
        addCompleted,
        addFailed,
      },
    });
    if (runFinished) sinkEvents.push(finishedSinkEvent(run, status, error));
    if (sinkEvents.length && options.eventSink) await options.eventSink(tx, sinkEvents);
    published = events;
    newCache = { seq, steps, status, startedAt: ex.run_started_at };
    if (next) next.event_seq = seq;
    return done();
  }

  /** The plan after a step's own row changed (`own`, already in `steps`): rows, claim, run status. */
  function planAfter(
    c: Completion,
    grid: CompiledGrid,
    steps: Map<string, StepState>,
    own: StepState,
    seq: number,
    runStartedAt: Date | null,
  ) {
    const { row, run } = c;
    const plan = planNext(grid, { steps, errorHandling: grid.document.settings.errorHandling });
    const failFast = plan.finished?.status === 'failed';
    const applied = applyPlanRows(run, seq, plan, steps, failFast);
    const next =
      !plan.finished && !stopping
        ? claimInline(applied, steps, {
            execution_id: row.execution_id,
            workspace_id: row.workspace_id,
            grid_id: row.grid_id,
            grid_version_id: row.grid_version_id,
            trigger_type: row.trigger_type,
            trigger_data: row.trigger_data,
            run_started_at: runStartedAt,
            deadline_at: row.deadline_at,
          })
        : null;
    let status: ExecutionStatus;
    let error: StepErrorInfo | null | undefined;
    if (plan.finished) {
      status = plan.finished.status;
      error = plan.finished.error ?? null;
    } else {
      const a = plan.activity;
      status = a.pending + a.running === 0 && a.waiting > 0 ? 'waiting' : 'running';
    }
    return {
      applied,
      failFast,
      next,
      status,
      error,
      runFinished: !!plan.finished,
      addCompleted: applied.addCompleted + (own.status === 'completed' ? 1 : 0),
      addFailed: applied.addFailed + (own.status === 'failed' ? 1 : 0),
    };
  }

  function completedEvent(
    row: ClaimRow,
    run: RunInfo,
    seq: number,
    output: Json,
    ports: string[] | null,
  ) {
    const e = stepEvent(run, seq, row.node_id, row.item_index, 'completed');
    e.attempt = row.attempt;
    e.startedAt = row.started_at.toISOString();
    e.outputPreview = preview(output) as Json;
    if (ports) e.ports = ports;
    return e;
  }

  function sinkEventsOf(c: Completion): SinkEvent[] {
    return c.domainEvents.map((e) => ({
      type: e.type,
      workspaceId: c.run.workspace_id,
      executionId: c.run.id,
      nodeId: c.row.node_id,
      data: e.data as Json,
    }));
  }

  function finishedSinkEvent(
    run: RunInfo,
    status: ExecutionStatus,
    error: StepErrorInfo | null | undefined,
  ): SinkEvent {
    return {
      type: `execution.${status}`,
      workspaceId: run.workspace_id,
      executionId: run.id,
      data: { status, gridId: run.grid_id, error: (error ?? null) as unknown as Json },
    };
  }

  /**
   * The common case in one autocommit statement (no BEGIN/COMMIT, no lock-then-read round trip):
   * a node produced output and this process's cached copy of the run is current. The statement is
   * gated on that (see planStatement); null = not applicable or not applied (take the transaction).
   */
  async function fastComplete(c: Completion): Promise<CompletionResult | null> {
    if (c.outcome.kind !== 'completed' || !c.grid) return null;
    // Optimistic: from this process's copy, else (or when another step of the run got in first)
    // from a fresh read of the run in one statement, at most 3 tries; then the transaction path.
    let state = runCache.get(c.row.execution_id) ?? null;
    for (let i = 0; i < 3; i++) {
      if (!state || i > 0) state = await readRunState(c.row.execution_id);
      if (!state || state.status !== 'running') return null;
      const r = await tryFastComplete(c, state);
      if (r !== 'stale') return r;
    }
    return null;
  }

  /** A run's seq, status, start and steps, read in one statement (one snapshot). */
  async function readRunState(executionId: string): Promise<CachedRun | null> {
    const r = await sql.query<{
      event_seq: number;
      status: ExecutionStatus;
      started_at: Date | null;
      steps: StepsAgg;
    }>(
      `SELECT e.event_seq, e.status, e.started_at, COALESCE(${stepsAgg('e.id')}, '[]'::json) AS steps
       FROM executions e WHERE e.id = $1`,
      [executionId],
    );
    const x = r.rows[0];
    if (!x) return null;
    return {
      seq: x.event_seq,
      status: x.status,
      startedAt: x.started_at,
      steps: stepsFromAgg(x.steps),
    };
  }

  async function tryFastComplete(
    c: Completion,
    cached: CachedRun,
  ): Promise<CompletionResult | null | 'stale'> {
    const { row, run } = c;
    const grid = c.grid!;
    const outcome = c.outcome as Extract<Outcome, { kind: 'completed' }>;
    const sinkEvents = sinkEventsOf(c);
    const steps = new Map(cached.steps);
    const own: StepState = {
      status: 'completed',
      input: row.input,
      output: outcome.output,
      ports: outcome.ports,
    };
    steps.set(stepKey(row.node_id, row.item_index), own);
    let seq = cached.seq;
    const events: RuntimeEvent[] = [completedEvent(row, run, ++seq, outcome.output, outcome.ports)];
    const p = planAfter(c, grid, steps, own, seq, cached.startedAt);
    if (p.failFast || p.applied.loopResults.length) return null;
    seq = p.applied.seq;
    events.push(...p.applied.events);
    if (p.status !== cached.status)
      events.push(runEvent(run, ++seq, p.status, cached.startedAt, p.error ?? undefined));
    if (p.runFinished) sinkEvents.push(finishedSinkEvent(run, p.status, p.error));
    const sink = options.eventSink;
    if (sinkEvents.length && sink && !sink.sql) return null;
    const stmt = planStatement(
      {
        executionId: run.id,
        workspaceId: run.workspace_id,
        steps: p.applied.rows,
        outbox: p.applied.outbox,
        failedSteps: p.applied.failedSteps,
        execution: {
          seq,
          status: p.status,
          finished: p.runFinished,
          ...(p.error !== undefined ? { error: p.error } : {}),
          addTotal: p.applied.addTotal,
          addCompleted: p.addCompleted,
          addFailed: p.addFailed,
        },
      },
      {
        expectSeq: cached.seq,
        expectStatus: cached.status,
        step: {
          id: row.id,
          attempt: row.attempt,
          startedAt: row.started_at,
          output: outcome.output,
          ports: outcome.ports,
        },
        ...(sinkEvents.length && sink?.sql
          ? { extra: (params: unknown[], gate: string) => sink.sql!(sinkEvents, params, gate) }
          : {}),
      },
    );
    const r = await sql.query<{ ok: number }>(stmt.sql, stmt.params);
    if (!r.rows[0]?.ok) return 'stale';
    if (p.next) p.next.event_seq = seq;
    return {
      published: events,
      outbox: p.applied.outbox,
      newCache: { seq, steps, status: p.status, startedAt: cached.startedAt },
      runFinished: p.runFinished,
      next: p.next,
    };
  }

  // Group commit: completions that arrive while others are being committed share a transaction
  // (sorted by run id, so concurrent batches lock run rows in the same order). A failing batch is
  // retried one completion per transaction.
  const MAX_BATCH = 32;
  const maxFlushers = db.kind === 'pglite' ? 1 : 4;
  const submitWaitingCompletion = groupCommitter<{
    c: Completion;
    resolve: (r: CompletionResult | null) => void;
  }>(maxFlushers, MAX_BATCH, flushCompletions);

  function submitCompletion(c: Completion): Promise<CompletionResult | null> {
    return new Promise((resolve) => submitWaitingCompletion({ c, resolve }));
  }

  async function flushCompletions(
    batch: Array<{ c: Completion; resolve: (r: CompletionResult | null) => void }>,
  ) {
    if (batch.length > 1) {
      batch.sort((x, y) => (x.c.run.id < y.c.run.id ? -1 : x.c.run.id > y.c.run.id ? 1 : 0));
      try {
        const results = await sql.transaction(async (tx) => {
          const out: CompletionResult[] = [];
          for (const b of batch) out.push(await completeInTx(tx, b.c));
          return out;
        });
        batch.forEach((b, i) => b.resolve(results[i]!));
        return;
      } catch (err) {
        for (const b of batch) runCache.delete(b.c.run.id);
        log.warn('batched step completion failed; retrying one by one', {
          err: String(err),
          size: batch.length,
        });
      }
    }
    for (const b of batch) {
      try {
        b.resolve(await sql.transaction((tx) => completeInTx(tx, b.c)));
      } catch (err) {
        runCache.delete(b.c.run.id);
        log.error('step completion failed; the sweeper will re-run the step', {
          err: String(err),
          stepId: b.c.row.id,
        });
        b.resolve(null);
      }
    }
  }

  async function complete(
    row: ClaimRow,
    run: RunInfo,
    grid: CompiledGrid | undefined,
    outcome: Outcome,
    domainEvents: DomainEvent[],
  ): Promise<ClaimRow | null> {
    const c: Completion = { row, run, grid, outcome, domainEvents };
    let r: CompletionResult | null = null;
    try {
      r = await fastComplete(c);
    } catch (err) {
      log.warn('one-statement step completion failed; retrying in a transaction', {
        err: String(err),
        stepId: row.id,
      });
    }
    r ??= await submitCompletion(c);
    if (!r) return null;
    if (r.runFinished && r.newCache && completionWaiters.has(row.execution_id)) {
      // Someone in this process waits for this run (sync webhook): answer from memory.
      const final = [...r.published].reverse().find((e): e is RunEvent => e.type === 'run');
      if (final)
        localSummaries.set(
          row.execution_id,
          summarize(row.execution_id, final.status, final.error, r.newCache.steps),
        );
    }
    if (r.newCache && !r.runFinished) cacheRun(row.execution_id, r.newCache);
    else runCache.delete(row.execution_id);
    publish(r.published);
    if (r.runFinished) for (const wake of localWakers.get(row.execution_id) ?? []) wake();
    await relay(r.outbox);
    return r.next;
  }

  // ------------------------------------------------------------------ resume, cancel

  async function resume(
    executionId: string,
    nodeId: string,
    payload: Json,
    itemIndex?: number | null,
  ): Promise<'resumed' | 'already-resumed' | 'not-waiting'> {
    const idx = itemIndex === null || itemIndex === undefined ? NO_ITEM : itemIndex;
    let result: 'resumed' | 'already-resumed' | 'not-waiting' = 'not-waiting';
    const events: RuntimeEvent[] = [];
    let outbox: OutboxRow[] = [];
    await sql.transaction(async (tx) => {
      const ex = await lockRunRow(tx, executionId);
      if (!ex || !OPEN_RUN.includes(ex.status)) return;
      const run: RunInfo = { id: executionId, workspace_id: ex.workspace_id, grid_id: ex.grid_id };
      const sid = stepId(executionId, nodeId, idx);
      const wp = (
        await tx.query<{ status: string }>(
          `SELECT status FROM waitpoints WHERE execution_id = $1 AND node_id = $2 AND item_index = $3 FOR UPDATE`,
          [executionId, nodeId, idx],
        )
      ).rows[0];
      let seq = ex.event_seq;
      if (wp?.status === 'resumed') {
        result = 'already-resumed';
        return;
      }
      if (wp?.status === 'waiting') {
        const st = await tx.query<{ attempt: number }>(
          `UPDATE execution_steps SET status = 'pending', updated_at = now() WHERE id = $1 AND status = 'waiting' RETURNING attempt`,
          [sid],
        );
        await tx.query(
          `UPDATE waitpoints SET status = 'resumed', resume_payload = $4::jsonb, resumed_at = now() WHERE execution_id = $1 AND node_id = $2 AND item_index = $3`,
          [executionId, nodeId, idx, JSON.stringify(payload ?? null)],
        );
        const attempt = st.rows[0]?.attempt;
        if (attempt !== undefined) {
          outbox = [
            {
              jobId: `${stepJobId(sid, attempt)}.w${seq + 1}`,
              data: { k: 'step', e: executionId, s: sid, a: attempt },
            },
          ];
          events.push(stepEvent(run, ++seq, nodeId, idx, 'pending', { attempt }));
          if (ex.status === 'waiting') events.push(runEvent(run, ++seq, 'running', ex.started_at));
        }
        await writePlan(tx, {
          executionId,
          workspaceId: ex.workspace_id,
          steps: [],
          outbox,
          failedSteps: [],
          execution: { seq, status: 'running', addTotal: 0, addCompleted: 0, addFailed: 0 },
        });
        result = 'resumed';
        return;
      }
      // No waitpoint yet: the step may still be running towards its wait. Store the decision; the
      // step's completion applies it instead of waiting.
      const st = (
        await tx.query<{ status: string }>(`SELECT status FROM execution_steps WHERE id = $1`, [
          sid,
        ])
      ).rows[0];
      if (!st || !(st.status === 'pending' || st.status === 'running')) return;
      await tx.query(
        `INSERT INTO waitpoints (id, execution_id, workspace_id, node_id, item_index, step_id, status, resume_payload, resumed_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'resumed', $7::jsonb, now())`,
        [
          randomUUID(),
          executionId,
          ex.workspace_id,
          nodeId,
          idx,
          sid,
          JSON.stringify(payload ?? null),
        ],
      );
      await tx.query(`UPDATE executions SET event_seq = event_seq + 1 WHERE id = $1`, [
        executionId,
      ]);
      result = 'resumed';
    });
    runCache.delete(executionId);
    publish(events);
    await relay(outbox);
    return result;
  }

  async function finishRun(
    executionId: string,
    status: 'cancelled' | 'failed',
    error: StepErrorInfo,
    workspaceId?: string,
  ): Promise<boolean> {
    const events: RuntimeEvent[] = [];
    let done = false;
    await sql.transaction(async (tx) => {
      const ex = await lockRunRow(tx, executionId, workspaceId);
      if (!ex || !OPEN_RUN.includes(ex.status)) return;
      const run: RunInfo = { id: executionId, workspace_id: ex.workspace_id, grid_id: ex.grid_id };
      let seq = ex.event_seq;
      const dropped = await tx.query<{ node_id: string; item_index: number }>(
        `UPDATE execution_steps SET status = 'skipped', error = $2::jsonb, finished_at = now(), updated_at = now()
         WHERE execution_id = $1 AND status IN ('pending', 'waiting') RETURNING node_id, item_index`,
        [executionId, JSON.stringify(error)],
      );
      await tx.query(
        `UPDATE waitpoints SET status = 'cancelled' WHERE execution_id = $1 AND status = 'waiting'`,
        [executionId],
      );
      await tx.query(`DELETE FROM outbox_jobs WHERE payload->>'e' = $1`, [executionId]);
      for (const d of dropped.rows)
        events.push(stepEvent(run, ++seq, d.node_id, d.item_index, 'skipped', { error }));
      events.push(runEvent(run, ++seq, status, ex.started_at, error));
      await tx.query(
        `UPDATE executions SET status = $2, error = $3::jsonb, finished_at = now(), event_seq = $4 WHERE id = $1`,
        [executionId, status, JSON.stringify(error), seq],
      );
      if (options.eventSink) {
        await options.eventSink(tx, [
          {
            type: `execution.${status}`,
            workspaceId: ex.workspace_id,
            executionId,
            data: { status, gridId: ex.grid_id, error: error as unknown as Json },
          },
        ]);
      }
      done = true;
    });
    runCache.delete(executionId);
    if (done) {
      publish(events);
      bus.publish('control', { type: 'abort', executionId, status });
    }
    return done;
  }

  function abortLocal(executionId: string, status: string) {
    const set = running.get(executionId);
    if (!set) return;
    for (const c of set) {
      c.abort(
        status === 'cancelled'
          ? new CancelledError('The run was cancelled.')
          : new CancelledError('The run ended.'),
      );
    }
  }

  // ------------------------------------------------------------------ sweeper

  async function sweep(opts: { reclaimAllRunning?: boolean } = {}): Promise<void> {
    // a) Running steps whose worker died (lease expired, or every one at an embedded restart).
    const lost = await sql.query<{ id: string; execution_id: string; attempt: number }>(
      `WITH r AS (
         UPDATE execution_steps SET status = 'pending', attempt = attempt + 1, available_at = NULL, updated_at = now()
         WHERE status = 'running' AND ${opts.reclaimAllRunning ? 'TRUE' : 'available_at < now()'}
           AND execution_id IN (SELECT id FROM executions WHERE status IN ('pending', 'running', 'waiting'))
         RETURNING id, execution_id, attempt),
       b AS (UPDATE executions SET event_seq = event_seq + 1 WHERE id IN (SELECT execution_id FROM r))
       SELECT * FROM r`,
    );
    const jobs: QueuedJob[] = lost.rows.map((r) => ({
      jobId: stepJobId(r.id, r.attempt),
      data: { k: 'step', e: r.execution_id, s: r.id, a: r.attempt },
    }));
    for (const r of lost.rows) runCache.delete(r.execution_id);
    if (lost.rows.length)
      log.warn('re-running steps whose worker stopped', { count: lost.rows.length });
    // b) Pending steps untouched for a while: their job may have vanished. Re-adding is deduplicated by job id.
    const stale = await sql.query<{ id: string; execution_id: string; attempt: number }>(
      `UPDATE execution_steps SET updated_at = now() WHERE id IN (
         SELECT id FROM execution_steps WHERE status = 'pending' AND updated_at < now() - make_interval(secs => $1::int / 1000.0)
           AND (available_at IS NULL OR available_at <= now()) LIMIT 1000 FOR UPDATE SKIP LOCKED)
       RETURNING id, execution_id, attempt`,
      [opts.reclaimAllRunning ? 0 : staleMs],
    );
    for (const r of stale.rows)
      jobs.push({
        jobId: stepJobId(r.id, r.attempt),
        data: { k: 'step', e: r.execution_id, s: r.id, a: r.attempt },
      });
    if (jobs.length) await queue.add(jobs);
    // c) Outbox rows the fast path did not relay (crash between commit and enqueue). Deleted in
    // the same transaction as the enqueue: if the queue is unreachable, the rows stay.
    await sql.transaction(async (tx) => {
      const left = await tx.query<{ job_id: string; payload: JobData; delay_ms: number }>(
        `DELETE FROM outbox_jobs WHERE id IN (
           SELECT id FROM outbox_jobs WHERE created_at < now() - interval '2 seconds' ORDER BY id LIMIT 1000 FOR UPDATE SKIP LOCKED)
         RETURNING job_id, payload, GREATEST(0, EXTRACT(EPOCH FROM (available_at - now())) * 1000)::int AS delay_ms`,
      );
      if (!left.rows.length) return;
      await queue.add(
        left.rows.map((r) => ({
          jobId: r.job_id,
          data: r.payload,
          ...(r.delay_ms > 0 ? { delayMs: r.delay_ms } : {}),
        })),
      );
    });
    // d) Runs past their deadline.
    const late = await sql.query<{ id: string; timeout_ms: number | null }>(
      `SELECT id FROM executions WHERE status IN ('pending', 'running', 'waiting') AND deadline_at < now() LIMIT 100`,
    );
    for (const r of late.rows) {
      await finishRun(r.id, 'failed', {
        message: 'The run reached its time limit and was stopped.',
        code: 'RUN_TIMEOUT',
        kind: 'fatal',
      });
    }
    // e) Due timers whose delayed job vanished.
    const due = await sql.query<{ execution_id: string; node_id: string; item_index: number }>(
      `SELECT execution_id, node_id, item_index FROM waitpoints WHERE status = 'waiting' AND resume_at < now() - interval '5 seconds' LIMIT 100`,
    );
    for (const w of due.rows)
      await resume(w.execution_id, w.node_id, { reason: 'timer' }, w.item_index);
  }

  async function heartbeat() {
    if (!runningSteps.size) return;
    await sql.query(
      `UPDATE execution_steps SET available_at = now() + make_interval(secs => $2::int / 1000.0) WHERE id = ANY($1::text[]) AND status = 'running'`,
      [[...runningSteps.keys()], leaseMs],
    );
  }

  function every(ms: number, fn: () => Promise<unknown>) {
    let busy = false;
    const t = setInterval(() => {
      if (busy || stopping) return;
      busy = true;
      fn()
        .catch((err) => log.warn('background task failed', { err: String(err) }))
        .finally(() => {
          busy = false;
        });
    }, ms);
    t.unref?.();
    timers.push(t);
  }

  // ------------------------------------------------------------------ public API

  const engine: EngineInternals = {
    queue,
    startRun,
    resume,
    sweep: () => sweep(),
    runningSteps: () => runningSteps.size,
    cancel: (workspaceId, executionId) =>
      finishRun(
        executionId,
        'cancelled',
        { message: 'The run was cancelled.', code: 'CANCELLED', kind: 'fatal' },
        workspaceId,
      ),
    async waitForCompletion(executionId, timeoutMs) {
      const early = finishedAtStart.get(executionId);
      if (early) {
        finishedAtStart.delete(executionId);
        return early.summary;
      }
      const deadline = Date.now() + timeoutMs;
      const isDone = async () => {
        const r = await sql.query<{ status: string }>(
          `SELECT status FROM executions WHERE id = $1`,
          [executionId],
        );
        const s = r.rows[0]?.status;
        return s !== undefined && !OPEN_RUN.includes(s);
      };
      let wake: (() => void) | null = null;
      let signalled = false;
      completionWaiters.set(executionId, (completionWaiters.get(executionId) ?? 0) + 1);
      const onEnd = () => {
        signalled = true;
        wake?.();
      };
      const off = engine.onEvent((e) => {
        if (e.type === 'run' && e.executionId === executionId && !OPEN_RUN.includes(e.status))
          onEnd();
      });
      // Ended by this process (inline or a local worker): woken without the event's Redis trip.
      let wakers = localWakers.get(executionId);
      if (!wakers) localWakers.set(executionId, (wakers = new Set()));
      wakers.add(onEnd);
      const summary = () =>
        localSummaries.get(executionId) ?? loadExecutionSummary(db.sql, executionId);
      try {
        // Embedded (one process, in-process queue and emitter): a run still in this process's
        // cache has not finished (every way a run ends here drops its cache entry), so its end
        // will arrive as an event and the first read is skipped. Otherwise read once now.
        // Same for a run whose steps this process executes inline right now.
        if (
          !((!scaled && runCache.has(executionId)) || inlineRuns.has(executionId)) &&
          (await isDone())
        )
          return await summary();
        // Events are the signal; the reads are a fallback (a pub/sub message lost during a Redis
        // reconnect, a run finished by another process), backing off 1 s → 4 s.
        let fallbackMs = 1_000;
        while (Date.now() < deadline) {
          if (!signalled) {
            const waitMs = Math.min(fallbackMs, Math.max(0, deadline - Date.now()));
            fallbackMs = Math.min(4_000, fallbackMs * 2);
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, waitMs).unref?.();
            });
          }
          if (signalled || (await isDone())) return await summary();
        }
        if (await isDone()) return await summary();
        return null;
      } finally {
        off();
        wakers.delete(onEnd);
        if (!wakers.size) localWakers.delete(executionId);
        const n = (completionWaiters.get(executionId) ?? 1) - 1;
        if (n > 0) completionWaiters.set(executionId, n);
        else {
          completionWaiters.delete(executionId);
          localSummaries.delete(executionId);
        }
      }
    },
    watchGrid(gridId) {
      const n = watchedHere.get(gridId) ?? 0;
      watchedHere.set(gridId, n + 1);
      if (scaled && n === 0) bus.publish('control', { type: 'watch-grids', gridIds: [gridId] });
      let done = false;
      return () => {
        if (done) return;
        done = true;
        const left = (watchedHere.get(gridId) ?? 1) - 1;
        if (left > 0) watchedHere.set(gridId, left);
        else watchedHere.delete(gridId);
      };
    },
    onEvent(listener) {
      // Scaled: subscribe to the deployment's event channel only when someone listens here (a
      // pure worker process never parses other processes' events).
      if (scaled && !eventsSubscribed) {
        eventsSubscribed = true;
        unsubs.push(bus.subscribe('events', (m) => deliver(m as RuntimeEvent[])));
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async start() {
      if (started) return;
      started = true;
      unsubs.push(
        bus.subscribe('control', (m) => {
          const msg = m as {
            type?: string;
            executionId?: string;
            status?: string;
            gridIds?: unknown;
          };
          if (msg.type === 'abort' && msg.executionId)
            abortLocal(msg.executionId, msg.status ?? 'cancelled');
          else if (msg.type === 'watch-grids') onWatchMessage(msg.gridIds);
        }),
      );
      if (scaled) {
        // Heard from the moment it subscribed: every watcher repeats its grids within WATCH_KEEP_MS.
        publishAllUntil = Date.now() + WATCH_KEEP_MS;
        every(WATCH_REPEAT_MS, async () => {
          if (watchedHere.size)
            bus.publish('control', { type: 'watch-grids', gridIds: [...watchedHere.keys()] });
        });
      }
      if (options.workers > 0) {
        queue.process(options.workers, async (data) => {
          try {
            await handleJob(data);
          } catch (err) {
            log.error('step job failed', {
              err: String(err),
              job: data as unknown as Record<string, unknown>,
            });
          }
        });
      }
      // Also without queue workers: steps run inline here (sync webhooks) keep their lease.
      every(Math.max(250, Math.floor(leaseMs / 3)), heartbeat);
      // Embedded (PGlite: one process owns the database): whatever was running died with the last process.
      await sweep({ reclaimAllRunning: db.kind === 'pglite' && !scaled }).catch((err) =>
        log.warn('initial sweep failed', { err: String(err) }),
      );
      every(sweepIntervalMs, () => sweep());
      every(options.retentionIntervalMs ?? 3_600_000, () =>
        pruneExecutions(db, { olderThanDays: options.retentionDays ?? 30 }),
      );
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      for (const t of timers) clearInterval(t);
      await queue.close();
      // Inline chains end after their current step (nothing is claimed inline while stopping).
      await Promise.allSettled([...inlineChains]);
      for (const u of unsubs) u();
      if (deleteTimer) clearTimeout(deleteTimer);
      flushPublish();
      await flushDeletes();
      await bus.close();
    },
  };
  return engine;
}

/**
 * A step's abort switch (cancel, timeout). Its AbortSignal is only made when the node reads
 * `ctx.signal` (most nodes never do; an AbortSignal is a costly object to make per step).
 */
class StepAbort {
  aborted = false;
  reason: unknown = undefined;
  /** The step's own wait (executeStep's race); the signal's listeners are the node's. */
  onAbort: ((reason: unknown) => void) | undefined;
  private ctrl: AbortController | undefined;

  get signal(): AbortSignal {
    if (!this.ctrl) {
      this.ctrl = new AbortController();
      if (this.aborted) this.ctrl.abort(this.reason);
    }
    return this.ctrl.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.ctrl?.abort(reason);
    this.onAbort?.(reason);
  }
}

/**
 * Group commit: items submitted while `maxInFlight` flushes are running wait, and go out together
 * (at most `maxBatch` per flush, in submission order) when one ends. `flush` never rejects: it
 * settles each item itself.
 *
 * `deferFirst`: with nothing in flight, wait for the event loop's next turn before flushing, so that
 * every request already read in this turn joins the batch. For embedded PGlite: a statement there
 * ran on this thread and blocked it, so nothing else arrived while one was "in flight" and every
 * batch held one run (sync webhooks: 784 → 1,415 req/s in-process). It still pays off with the
 * database on its own thread (2,213 → 2,461 req/s).
 */
function groupCommitter<T>(
  maxInFlight: number,
  maxBatch: number,
  flush: (batch: T[]) => Promise<void>,
  deferFirst = false,
): (item: T) => void {
  const waiting: T[] = [];
  let inFlight = 0;
  let deferred = false;
  const flushNow = () => {
    deferred = false;
    while (inFlight < maxInFlight && waiting.length) {
      const batch = waiting.splice(0, maxBatch);
      inFlight++;
      void flush(batch).finally(() => {
        inFlight--;
        kick();
      });
    }
  };
  const kick = () => {
    if (deferred || !waiting.length) return;
    if (deferFirst && inFlight === 0) {
      deferred = true;
      setImmediate(flushNow);
    } else flushNow();
  };
  return (item) => {
    waiting.push(item);
    kick();
  };
}

/** Locks an execution's row for a state change (resume, cancel/fail); scoped to the workspace when given. */
async function lockRunRow(tx: SqlExecutor, executionId: string, workspaceId?: string) {
  return (
    await tx.query<{
      status: string;
      event_seq: number;
      workspace_id: string;
      grid_id: string;
      started_at: Date | null;
    }>(
      `SELECT status, event_seq, workspace_id, grid_id, started_at FROM executions WHERE id = $1 ${workspaceId ? 'AND workspace_id = $2' : ''} FOR UPDATE`,
      workspaceId ? [executionId, workspaceId] : [executionId],
    )
  ).rows[0];
}

function summarize(
  id: string,
  status: ExecutionStatus,
  error: StepErrorInfo | undefined,
  steps: Map<string, StepState>,
): ExecutionSummary {
  const outputs: Record<string, Json> = {};
  const items = new Map<string, Json[]>();
  for (const [k, s] of steps) {
    if (s.status !== 'completed') continue;
    const at = k.lastIndexOf('#');
    const nodeId = k.slice(0, at);
    const idx = Number(k.slice(at + 1));
    if (idx < 0) outputs[nodeId] = s.output ?? null;
    else {
      let arr = items.get(nodeId);
      if (!arr) items.set(nodeId, (arr = []));
      arr[idx] = s.output ?? null;
    }
  }
  for (const [nodeId, arr] of items)
    outputs[nodeId] = Array.from(arr, (x) => (x === undefined ? null : x));
  const summary: ExecutionSummary = { id, status, outputs };
  if (error) summary.error = error;
  return summary;
}

function backoff(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(policy.maxDelayMs, Math.max(0, retryAfterMs));
  const exp = policy.backoffMs * 2 ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxDelayMs, exp);
  // "Equal jitter": half fixed, half random, so retries of many steps spread out.
  return Math.round(capped / 2 + Math.random() * (capped / 2));
}

const templatedNodes = new WeakMap<GridNode, boolean>();
const parsedConfigs = new WeakMap<GridNode, z.ZodSafeParseResult<unknown>>();

function hasTemplatesCached(node: GridNode): boolean {
  let templated = templatedNodes.get(node);
  if (templated === undefined) templatedNodes.set(node, (templated = hasTemplates(node.config)));
  return templated;
}

function hasTemplates(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{');
  if (Array.isArray(value)) return value.some(hasTemplates);
  if (value && typeof value === 'object') return Object.values(value).some(hasTemplates);
  return false;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${n} bytes`;
}

export type { GridDocument };
