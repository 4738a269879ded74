/**
 * What route modules share: the dependencies with defaults applied, plus server-side services
 * (trigger cache, live hub) created by `createApp`.
 */
import type { Logger } from 'pino';
import type { Engine, NodeRegistry } from '@gridflow/runtime';
import type { AppDeps, Crypto, ServerOptions } from './deps.js';
import type { Db } from './db.js';
import type { Metrics } from './ops/metrics.js';
import type { TriggerCache } from './webhooks/trigger-cache.js';
import { ApiError } from './http/errors.js';

export interface Notifier {
  /** Pushes a payload to a user's socket.io room. */
  toUser(userId: string, event: string, payload: unknown): void;
}

export interface ServerContext {
  deps: AppDeps;
  db: Db;
  engine: Engine | null;
  registry: NodeRegistry;
  crypto: Crypto;
  log: Logger;
  opts: ServerOptions;
  metrics: Metrics;
  triggers: TriggerCache;
  notifier: Notifier;
}

export function requireEngine(ctx: ServerContext): Engine {
  if (!ctx.engine) {
    throw new ApiError(503, 'UNAVAILABLE', 'The run engine is not available in this process');
  }
  return ctx.engine;
}
