/**
 * Scaled mode: the step queue on BullMQ and the bus on Redis pub/sub. Workers may run in any
 * number of processes; BullMQ's stalled-job check re-delivers jobs of a killed worker.
 */
import { Queue, Worker } from 'bullmq';
import IORedis, { type Redis } from 'ioredis';
import type { Bus, JobData, JobQueue, QueuedJob } from './queue.js';

export interface BullQueueOptions {
  redisUrl: string;
  /** BullMQ key prefix (one per deployment / test). */
  prefix: string;
  /** How long a job's lock lasts without renewal; a killed worker's job is re-delivered after about this. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

const QUEUE_NAME = 'steps';

function redis(url: string): Redis {
  const r = new IORedis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
  // ioredis reconnects by itself; an unhandled 'error' event would crash the process instead.
  r.on('error', () => {});
  return r;
}

export function createBullQueue(opts: BullQueueOptions): JobQueue {
  const connection = redis(opts.redisUrl);
  const queue = new Queue<JobData>(QUEUE_NAME, {
    connection,
    prefix: opts.prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: 1 },
  });
  queue.on('error', () => {});
  let worker: Worker<JobData> | null = null;
  let workerConn: Redis | null = null;
  return {
    kind: 'bullmq',
    async add(jobs: QueuedJob[]) {
      if (!jobs.length) return;
      await queue.addBulk(
        jobs.map((j) => ({
          name: j.data.k,
          data: j.data,
          opts: {
            jobId: j.jobId,
            ...(j.delayMs && j.delayMs > 0 ? { delay: Math.ceil(j.delayMs) } : {}),
          },
        })),
      );
    },
    process(concurrency, handler) {
      workerConn = redis(opts.redisUrl);
      worker = new Worker<JobData>(QUEUE_NAME, async (job) => handler(job.data, job.id!), {
        connection: workerConn,
        prefix: opts.prefix,
        concurrency,
        lockDuration: opts.lockDurationMs ?? 30_000,
        stalledInterval: opts.stalledIntervalMs ?? 30_000,
        maxStalledCount: 5,
      });
      worker.on('error', () => {});
    },
    async close() {
      if (worker) await worker.close();
      await queue.close();
      await Promise.allSettled([connection.quit(), workerConn?.quit()]);
    },
  };
}

export function createRedisBus(redisUrl: string, prefix: string): Bus {
  const pub = redis(redisUrl);
  let sub: Redis | null = null;
  const listeners = new Map<string, Set<(m: unknown) => void>>();
  const ensureSub = () => {
    if (sub) return sub;
    sub = redis(redisUrl);
    sub.on('message', (channel: string, raw: string) => {
      const set = listeners.get(channel);
      if (!set) return;
      let msg: unknown;
      try {
        msg = JSON.parse(raw);
      } catch {
        return;
      }
      for (const fn of set) fn(msg);
    });
    return sub;
  };
  const ch = (c: string) => `${prefix}:${c}`;
  return {
    publish(channel, message) {
      void pub.publish(ch(channel), JSON.stringify(message)).catch(() => {});
    },
    subscribe(channel, fn) {
      const c = ch(channel);
      let set = listeners.get(c);
      if (!set) {
        listeners.set(c, (set = new Set()));
        void ensureSub()
          .subscribe(c)
          .catch(() => {});
      }
      set.add(fn);
      return () => {
        set!.delete(fn);
      };
    },
    async close() {
      await Promise.allSettled([pub.quit(), sub?.quit()]);
    },
  };
}
