/**
 * Prometheus metrics (prom-client), one registry per app so several apps can live in one process
 * (tests). Run and step counters are fed from the engine's events; queue depth is read at scrape.
 */
import client from 'prom-client';
import type { RuntimeEvent } from '@gridflow/runtime';
import type { Db } from '../db.js';

export interface Metrics {
  registry: client.Registry;
  webhookRequests: client.Counter<'status'>;
  httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  observeEvent(event: RuntimeEvent): void;
}

const TERMINAL_STEP = new Set(['completed', 'failed', 'skipped']);
const TERMINAL_RUN = new Set(['completed', 'failed', 'cancelled']);

export function createMetrics(db: Db): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const runs = new client.Counter({ name: 'gridflow_runs_total', help: 'Runs seen finishing (and starting) by status', labelNames: ['status'], registers: [registry] });
  const steps = new client.Counter({ name: 'gridflow_steps_total', help: 'Steps by final status', labelNames: ['status'], registers: [registry] });
  const stepDuration = new client.Histogram({
    name: 'gridflow_step_duration_seconds',
    help: 'Step duration from start to finish',
    labelNames: ['status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const webhookRequests = new client.Counter({ name: 'gridflow_webhook_requests_total', help: 'Inbound webhook calls by HTTP status', labelNames: ['status'], registers: [registry] });
  const httpDuration = new client.Histogram({
    name: 'gridflow_http_request_duration_seconds',
    help: 'API request duration',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new client.Gauge({
    name: 'gridflow_queue_depth',
    help: 'Steps waiting to run (pending) and runs waiting (approval/delay)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      try {
        const r = await db.sql.query<{ status: string; n: number | string }>(
          `SELECT status, count(*)::int AS n FROM execution_steps WHERE status IN ('pending','running','waiting') GROUP BY status`,
        );
        this.reset();
        for (const s of ['pending', 'running', 'waiting']) this.set({ state: s }, 0);
        for (const row of r.rows) this.set({ state: row.status }, Number(row.n));
      } catch {
        /* database down: /readyz reports it */
      }
    },
  });
  return {
    registry,
    webhookRequests,
    httpDuration,
    observeEvent(e) {
      if (e.type === 'run') {
        if (TERMINAL_RUN.has(e.status) || e.status === 'running') runs.inc({ status: e.status });
        return;
      }
      if (!TERMINAL_STEP.has(e.status)) return;
      steps.inc({ status: e.status });
      if (e.startedAt && e.finishedAt) {
        const s = (Date.parse(e.finishedAt) - Date.parse(e.startedAt)) / 1000;
        if (s >= 0) stepDuration.observe({ status: e.status }, s);
      }
    },
  };
}
