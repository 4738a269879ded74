/**
 * A worker process: an engine that only runs steps (`npm run worker`). The server's
 * `worker-main.ts` wires the node registry, services and database and calls `runWorker`.
 * Stops gracefully on SIGTERM/SIGINT (running steps finish; a SIGKILL loses nothing either: the
 * jobs are re-delivered and the steps' leases expire).
 */
import { createEngine, type EngineInternals, type EngineOptions } from './engine-impl.js';

export interface RunWorkerOptions extends Omit<EngineOptions, 'workers'> {
  /** Step concurrency of this process. Default 10. */
  concurrency?: number;
  /** Install SIGTERM/SIGINT handlers that stop the engine and call `onStopped`. Default true. */
  handleSignals?: boolean;
  onStopped?: () => void | Promise<void>;
}

export async function runWorker(options: RunWorkerOptions): Promise<EngineInternals> {
  const { concurrency = 10, handleSignals = true, onStopped, ...rest } = options;
  const engine = createEngine({ ...rest, workers: concurrency });
  await engine.start();
  if (handleSignals) {
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      try {
        await engine.stop();
      } finally {
        await onStopped?.();
      }
    };
    process.once('SIGTERM', () => void stop());
    process.once('SIGINT', () => void stop());
  }
  return engine;
}
