/**
 * What the server (and tests) use to drive runs. Implemented by `createEngine` in this package;
 * the server never runs nodes itself.
 */
import type { GridDocument } from './document.js';
import type { Json } from './node-type.js';
import type { StepErrorInfo } from './errors.js';

export type ExecutionStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'cancelled';
export type StepStatus = 'pending' | 'running' | 'waiting' | 'completed' | 'failed' | 'skipped';
export type TriggerType = 'manual' | 'webhook' | 'schedule' | 'test' | 'retry';

export interface StartRunInput {
  workspaceId: string;
  gridId: string;
  /** The published version run; null for a test run of the draft (then `document` is snapshotted on the execution). */
  gridVersionId: string | null;
  document: GridDocument;
  triggerType: TriggerType;
  triggerData: Json;
  startedById?: string | null;
  /** Reuse completed steps of this execution (retry from the failed step). */
  retryOf?: string;
  /**
   * The caller waits for the result (a sync webhook): run the first steps in this process, even
   * when it runs no queue workers (an API server), if it has inline room. Durable all the same.
   */
  waitsForResult?: boolean;
  /**
   * The run's id, chosen by the caller (a UUID) to make starting idempotent: when a run with this
   * id already exists in the workspace, nothing new is started and its id is returned. The
   * scheduler derives it from the schedule and due time. Default: a new random UUID.
   */
  executionId?: string;
}

export interface StepEvent {
  type: 'step';
  /** Monotonic per execution: a client that reconnects asks for events after the last seq it saw. */
  seq: number;
  executionId: string;
  gridId: string;
  workspaceId: string;
  nodeId: string;
  itemIndex: number | null;
  status: StepStatus;
  attempt: number;
  startedAt: string | null;
  finishedAt: string | null;
  /** Bounded preview (a few KiB at most) of the output. */
  outputPreview?: Json;
  error?: StepErrorInfo;
  /** Output ports that fired (for animating the path taken). */
  ports?: string[];
}

export interface RunEvent {
  type: 'run';
  seq: number;
  executionId: string;
  gridId: string;
  workspaceId: string;
  status: ExecutionStatus;
  startedAt: string | null;
  finishedAt: string | null;
  error?: StepErrorInfo;
}

export type RuntimeEvent = StepEvent | RunEvent;

export interface ExecutionSummary {
  id: string;
  status: ExecutionStatus;
  /** Output of every completed node by node id (item-indexed nodes: array in item order). */
  outputs: Record<string, Json>;
  error?: StepErrorInfo;
}

export interface Engine {
  /** Creates the execution and its first step in one transaction; the step is enqueued via the outbox. */
  startRun(input: StartRunInput): Promise<{ executionId: string }>;
  /** Pending steps are dropped, the running node's AbortSignal fires. False when not found or already finished. */
  cancel(workspaceId: string, executionId: string): Promise<boolean>;
  /** Resumes a waiting step. A duplicate or early resume is absorbed. */
  resume(
    executionId: string,
    nodeId: string,
    payload: Json,
    itemIndex?: number | null,
  ): Promise<'resumed' | 'already-resumed' | 'not-waiting'>;
  /** Resolves when the run finishes, or null after `timeoutMs`. */
  waitForCompletion(executionId: string, timeoutMs: number): Promise<ExecutionSummary | null>;
  /**
   * Live step and run events (Redis pub/sub in scaled mode, an emitter in embedded mode). In scaled
   * mode a run that finishes within its first statement (every step side-effect free, e.g. a sync
   * webhook) sends its events through Redis only while some process watches its grid
   * (`watchGrid`); else only this process's listeners get them. Nobody can have subscribed to such a
   * run by its id before it ended (its snapshot is then complete).
   */
  onEvent(listener: (event: RuntimeEvent) => void): () => void;
  /**
   * Marks a grid as watched by this process (e.g. an editor showing it live) until the returned
   * function is called: every process then publishes all of its runs' events. Other processes
   * learn of it within milliseconds (control channel) and keep it while this process repeats it
   * (every 2 s).
   */
  watchGrid(gridId: string): () => void;
  /** Starts relay, sweeper, scheduler and (when `workers > 0`) in-process step workers. */
  start(): Promise<void>;
  /** Stops taking jobs, lets running steps finish or releases them, closes queues. */
  stop(): Promise<void>;
}
