/**
 * `createApp(deps)`: the Express app, its HTTP server with socket.io, and background parts
 * (event delivery worker, template sync). Tests call `listen(0)`; main.ts listens on PORT.
 */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import { resumeDecidedApprovals } from './events/approval-repair.js';
import cookieParser from 'cookie-parser';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { pinoHttp } from 'pino-http';
import { defaultServerOptions, type AppDeps } from './deps.js';
import type { ServerContext } from './context.js';
import { ApiError, errorBody, errorHandler, notFoundHandler } from './http/errors.js';
import { Api, openApiDocument } from './http/route.js';
import { createAuthenticator } from './auth/authenticate.js';
import { createLogger } from './ops/logger.js';
import { createMetrics } from './ops/metrics.js';
import { TriggerCache } from './webhooks/trigger-cache.js';
import { createLiveHub, type LiveHub } from './live/hub.js';
import { registerAuthRoutes } from './routes/auth.routes.js';
import { registerWorkspaceRoutes } from './routes/workspaces.routes.js';
import { registerGridRoutes } from './routes/grids.routes.js';
import { registerExecutionRoutes } from './routes/executions.routes.js';
import { registerContentRoutes } from './routes/content.routes.js';
import { registerTemplateRoutes, syncTemplates } from './routes/templates.routes.js';
import { registerEventRoutes } from './routes/events.routes.js';
import { createHookHandler } from './webhooks/hooks.routes.js';
import { redisReplayStore } from './webhooks/signature.js';
import { DeliveryWorker } from './events/delivery-worker.js';
import { onRuntimeEvent } from './events/notifications.js';

export interface GridflowApp {
  app: Express;
  httpServer: HttpServer;
  ctx: ServerContext;
  live: LiveHub;
  openapi: ReturnType<typeof openApiDocument>;
  /** Starts listening; resolves with the base URL (port 0 = any free port). */
  listen(port?: number, host?: string): Promise<string>;
  /** Graceful: stops the delivery worker, closes sockets and the HTTP server (not the engine or db). */
  close(): Promise<void>;
}

const jsonType = (req: { headers: Record<string, string | string[] | undefined> }) => {
  const ct = req.headers['content-type'];
  return typeof ct === 'string' && /^application\/([a-z0-9.+-]*\+)?json\b/i.test(ct);
};

/** 415 for a request with a body that is not JSON. */
const requireJson: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !jsonType(req) && req.method !== 'GET' && req.method !== 'HEAD') {
    return next(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send JSON: Content-Type: application/json'));
  }
  next();
};

export async function createApp(deps: AppDeps): Promise<GridflowApp> {
  const opts = { ...defaultServerOptions, ...deps.options };
  const log = deps.log ?? createLogger('silent');
  const metrics = createMetrics(deps.db);
  const triggers = new TriggerCache(deps.db, deps.crypto, opts.hookTimeoutMs);
  const authenticate = createAuthenticator(deps.db);
  const app = express();
  const cors = corsFor(opts.corsOrigins);
  // Webhook calls, the hottest path, bypass Express (its routing, rate limiter, body parser and
  // res.json were about a third of a sync webhook's server CPU) and helmet (page-oriented headers that
  // mean nothing to a machine caller): they go to `hooks` (created below, before the server listens),
  // after CORS.
  const httpServer = createServer((req, res) => {
    if (!hooks.matches(req)) return app(req, res);
    if (!cors?.(req, res)) hooks.handle(req, res);
  });
  const live = createLiveHub({
    httpServer,
    db: deps.db,
    authenticate,
    corsOrigins: opts.corsOrigins,
    log,
    watchGrid: deps.engine ? (gridId) => deps.engine!.watchGrid(gridId) : undefined,
  });
  const ctx: ServerContext = {
    deps,
    db: deps.db,
    engine: deps.engine,
    registry: deps.registry,
    crypto: deps.crypto,
    log,
    opts,
    metrics,
    triggers,
    notifier: { toUser: (userId, event, payload) => live.toUser(userId, event, payload) },
  };

  app.disable('x-powered-by');
  app.set('trust proxy', opts.trustProxy);
  app.set('json replacer', (_k: string, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
  if (cors) {
    app.use((req, res, next) => {
      if (!cors(req, res)) next();
    });
  }

  const replayStore = opts.redisUrl ? await redisReplayStore(opts.redisUrl) : undefined;
  const hooks = createHookHandler(ctx, replayStore);
  app.use(helmet({ contentSecurityPolicy: opts.editorDist ? undefined : false }));

  // Operations: no auth, no body.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await deps.db.sql.query('SELECT 1');
      checks.database = 'ok';
    } catch (err) {
      checks.database = `down: ${(err as Error).message}`;
    }
    if (opts.redisUrl) checks.redis = await pingRedis(opts.redisUrl);
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });


  const reqLogger = pinoHttp({
    logger: log,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && /^[A-Za-z0-9._-]{1,100}$/.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug'),
  });
  app.use('/api', reqLogger);
  app.use('/api', (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route?.path as string | undefined) ?? 'unmatched';
      metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  });
  app.use('/api', cookieParser());
  app.use('/api', requireJson);
  app.use('/api', express.json({ limit: opts.jsonLimit, strict: false, type: jsonType }));

  const router = express.Router();
  const api = new Api(router, authenticate);
  const loginLimiter = rateLimit({
    windowMs: opts.loginRateLimit.windowMs,
    limit: opts.loginRateLimit.max,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => `${ipKeyGenerator(req.ip ?? '')}:${typeof req.body?.email === 'string' ? req.body.email.toLowerCase() : ''}`,
    handler: (_req, res) => {
      res.status(429).json(errorBody(new ApiError(429, 'RATE_LIMITED', 'Too many login attempts; try again later')));
    },
  });
  registerAuthRoutes(api, ctx, loginLimiter);
  registerWorkspaceRoutes(api, ctx);
  registerGridRoutes(api, ctx);
  registerExecutionRoutes(api, ctx);
  registerContentRoutes(api, ctx);
  registerTemplateRoutes(api, ctx);
  registerEventRoutes(api, ctx);
  const openapi = openApiDocument([api], { title: 'Gridflow API', version: '0.1.0' });
  router.get('/api/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use(router);
  app.use('/api', notFoundHandler);

  // The editor: static files with SPA fallback.
  const dist = opts.editorDist ? resolve(opts.editorDist) : null;
  if (dist && existsSync(join(dist, 'index.html'))) {
    app.use(express.static(dist, { index: 'index.html', maxAge: '1h' }));
    app.get(/^\/(?!api\/|hooks\/|socket\.io\/).*/, (req, res, next) => {
      if (req.method !== 'GET' || !req.accepts('html')) return next();
      res.sendFile(join(dist, 'index.html'));
    });
  }
  app.use(notFoundHandler);
  app.use(errorHandler(log));

  // Background parts.
  if (deps.templates?.length) await syncTemplates(ctx, deps.templates);
  const unsubscribe = deps.engine?.onEvent((event) => {
    metrics.observeEvent(event);
    live.relay(event);
    onRuntimeEvent(ctx, event);
  });
  const delivery = opts.deliveryWorker ? new DeliveryWorker(deps.db, deps.crypto, log, opts) : null;
  delivery?.start();
  // Decided approvals whose run was not resumed (a crash between the two) are resumed here.
  const engine = deps.engine;
  let repairing = false;
  const approvalRepair = engine
    ? setInterval(() => {
        if (repairing) return;
        repairing = true;
        resumeDecidedApprovals(deps.db, engine)
          .then((n) => n && log.warn({ resumed: n }, 'resumed runs of decided approvals that were still waiting'))
          .catch((err) => log.warn({ err }, 'approval repair failed'))
          .finally(() => (repairing = false));
      }, 15_000)
    : null;
  approvalRepair?.unref();

  let closing: Promise<void> | undefined;
  return {
    app,
    httpServer,
    ctx,
    live,
    openapi,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolveUrl, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          const addr = httpServer.address();
          const p = typeof addr === 'object' && addr ? addr.port : port;
          resolveUrl(`http://${host.includes(':') ? `[${host}]` : host}:${p}`);
        });
      });
    },
    close() {
      closing ??= (async () => {
        unsubscribe?.();
        if (approvalRepair) clearInterval(approvalRepair);
        await delivery?.stop();
        httpServer.closeIdleConnections?.();
        await live.close(); // also closes the HTTP server
        await replayStore?.close();
        httpServer.closeAllConnections?.();
      })();
      return closing;
    },
  };
}

/**
 * CORS for the allowed origins (null when there are none): a request from one gets the headers, and
 * its preflight (OPTIONS) is answered 204 here; true when answered.
 */
function corsFor(origins: string[]): ((req: IncomingMessage, res: ServerResponse) => boolean) | null {
  if (!origins.length) return null;
  return (req, res) => {
    const origin = req.headers.origin;
    if (!origin || !origins.includes(origin)) return false;
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Allow-Credentials', 'true');
    res.setHeader('Vary', 'Origin');
    res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, If-Match, X-Workspace-Id, Idempotency-Key');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE');
    res.setHeader('Access-Control-Expose-Headers', 'ETag');
    if (req.method !== 'OPTIONS') return false;
    res.statusCode = 204;
    res.end();
    return true;
  };
}

async function pingRedis(url: string): Promise<string> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, enableOfflineQueue: false });
  try {
    await r.connect();
    return (await r.ping()) === 'PONG' ? 'ok' : 'down: unexpected reply';
  } catch (err) {
    return `down: ${(err as Error).message}`;
  } finally {
    r.disconnect();
  }
}
