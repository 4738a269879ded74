/** What the benchmark needs from each system under test. */
import type { StoreCount } from './load.js';

export type Workload = 'W1' | 'W3';

export interface BenchContext {
  /** Scratch folder for this benchmark run (user folders, data dirs, logs); removed at the end unless --keep. */
  workDir: string;
  cacheDir: string;
  repoDir: string;
  log(msg: string): void;
}

/** One started instance, fresh for one workload ("round"). */
export interface Round {
  /** POST target of the workload's webhook. */
  url: string;
  /** W3: finished runs in the system's own store (exact). */
  count?(): Promise<StoreCount>;
  /**
   * W3, optional: runs of the grid not yet finished (pending/running/waiting), for stores where an
   * exact count is expensive to poll; W3 then polls this and counts exactly once at the end.
   */
  unfinished?(): Promise<number>;
  stop(): Promise<void>;
  /** After the measurement: whether shared services restarted meanwhile (printed with the line). */
  disturbances?(): Promise<Record<string, unknown>>;
  /** Extra facts printed with the round's JSON line (e.g. how it was launched). */
  info?: Record<string, unknown>;
  /** Process groups of the system's processes, by name (their CPU time is measured). */
  groups: Map<number, string>;
  /** Cumulative counters of the system's database (PostgreSQL: pg_stat_database), to report per run. */
  dbCounters?(): Promise<Record<string, number>>;
  /** More processes working for the system, outside its groups (PostgreSQL backends). */
  extraPids?(): Promise<number[]>;
}

export interface System {
  /** Stable name used in the JSON lines, e.g. `n8n`, `gridflow-scaled`. */
  name: string;
  version: string;
  /** Where W3 counts completed runs. */
  store: string;
  /** Installs / prepares once per benchmark run. */
  prepare(ctx: BenchContext): Promise<void>;
  startRound(workload: Workload, ctx: BenchContext): Promise<Round>;
}
