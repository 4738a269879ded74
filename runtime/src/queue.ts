/**
 * The step queue and the event/control bus, as interfaces with an in-process implementation
 * (embedded mode). The BullMQ/Redis implementations live in `queue-bullmq.ts`.
 */
import { EventEmitter } from 'node:events';

/** A queued unit of work. Small on purpose: everything else is read from the database. */
export type JobData =
  /** Run step `s` (attempt `a`) of execution `e`. */
  | { k: 'step'; e: string; s: string; a: number }
  /** A wait's `until` has come: resume node `n` (item `i`) of execution `e` with `{ reason: 'timer' }`. */
  | { k: 'timer'; e: string; n: string; i: number };

export interface QueuedJob {
  /** Deterministic: a second add of the same id while the first is queued or running is ignored. */
  jobId: string;
  data: JobData;
  /** Run no earlier than this many ms from now. */
  delayMs?: number;
}

export interface JobQueue {
  readonly kind: 'memory' | 'bullmq';
  add(jobs: QueuedJob[]): Promise<void>;
  /** Starts consuming with `concurrency` parallel handlers. A handler that throws is logged and dropped (state lives in the database). */
  process(concurrency: number, handler: (data: JobData, jobId: string) => Promise<void>): void;
  /** Stops taking new jobs and waits for running handlers. */
  close(): Promise<void>;
}

/** Fan-out of messages to every process of the deployment (events, cancel signals). */
export interface Bus {
  publish(channel: string, message: unknown): void;
  subscribe(channel: string, fn: (message: unknown) => void): () => void;
  close(): Promise<void>;
}

export function createMemoryBus(): Bus {
  const ee = new EventEmitter();
  ee.setMaxListeners(0);
  return {
    publish: (channel, message) => {
      ee.emit(channel, message);
    },
    subscribe: (channel, fn) => {
      ee.on(channel, fn);
      return () => ee.off(channel, fn);
    },
    close: async () => {
      ee.removeAllListeners();
    },
  };
}

/**
 * In-process queue: FIFO with delayed jobs on timers. Jobs are lost with the process; the engine's
 * sweeper re-enqueues pending steps from the database on restart (the database is the truth).
 */
export function createMemoryQueue(): JobQueue {
  const ready: QueuedJob[] = [];
  let head = 0;
  const known = new Set<string>(); // queued, delayed or running
  const timers = new Map<string, NodeJS.Timeout>();
  let handler: ((data: JobData, jobId: string) => Promise<void>) | null = null;
  let concurrency = 0;
  let active = 0;
  let closed = false;
  const idle: Array<() => void> = [];
  let pumping = false;

  const pump = () => {
    if (pumping) return;
    pumping = true;
    try {
      while (handler && !closed && active < concurrency && head < ready.length) {
        const job = ready[head++]!;
        if (head > 1024 && head * 2 > ready.length) {
          ready.splice(0, head);
          head = 0;
        }
        active++;
        const h = handler;
        void (async () => {
          try {
            await h(job.data, job.jobId);
          } catch {
            // handlers log their own errors; the database state is what matters
          } finally {
            active--;
            known.delete(job.jobId);
            if (active === 0 && idle.length) for (const f of idle.splice(0)) f();
            pump();
          }
        })();
      }
    } finally {
      pumping = false;
    }
  };

  return {
    kind: 'memory',
    async add(jobs) {
      if (closed) return;
      for (const job of jobs) {
        if (known.has(job.jobId)) continue;
        known.add(job.jobId);
        if (job.delayMs && job.delayMs > 0) {
          const t = setTimeout(() => {
            timers.delete(job.jobId);
            ready.push(job);
            pump();
          }, job.delayMs);
          t.unref?.();
          timers.set(job.jobId, t);
        } else ready.push(job);
      }
      // Let the caller finish its own work (e.g. releasing a connection) before handlers start.
      queueMicrotask(pump);
    },
    process(c, h) {
      handler = h;
      concurrency = c;
      pump();
    },
    async close() {
      closed = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      if (active > 0) await new Promise<void>((r) => idle.push(r));
    },
  };
}
