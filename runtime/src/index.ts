/**
 * @gridflow/runtime: everything public. Node-only modules are included here; browser code imports
 * the browser-safe files on their own (`@gridflow/runtime/document`, `/graph-rules`, `/validate`,
 * `/planner`, `/for-each`, `/template`, `/errors`, `/node-type`, `/engine`).
 */
// Contracts (browser-safe)
export * from './document.js';
export * from './errors.js';
export * from './node-type.js';
export * from './engine.js';
// Graph model (browser-safe)
export * from './graph-rules.js';
export * from './validate.js';
export * from './planner.js';
export * from './for-each.js';
export * from './template.js';
export * from './expressions.js';
// Node-only: engine, queues, state, workers
export {
  createEngine,
  type EngineOptions,
  type EngineServices,
  type EngineInternals,
  type EngineLogger,
  type EventSink,
  type SinkEvent,
} from './engine-impl.js';
export type { Bus, JobData, JobQueue, QueuedJob } from './queue.js';
export {
  getExecutionState,
  eventsAfter,
  pruneExecutions,
  loadExecutionSummary,
  type ExecutionState,
} from './execution-state.js';
export {
  executeNodeOnce,
  type ExecuteNodeOnceOptions,
  type ExecuteNodeOnceResult,
} from './execute-once.js';
export { runWorker, type RunWorkerOptions } from './worker.js';
// Node-only services (written alongside: sandbox, HTTP, logging, schedules)
export * from './sandbox.js';
export * from './http-client.js';
export * from './logger.js';
export * from './scheduler.js';
export * from './cron.js';
