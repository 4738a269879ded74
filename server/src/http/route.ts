/**
 * One declaration per route: the zod schemas validate the request AND produce the OpenAPI 3.1
 * document, so the two cannot drift. Handlers return the JSON body; the wrapper validates input,
 * resolves the caller (session or API key) and checks the role before the handler runs.
 */
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { ApiError, unauthenticated, forbidden, zodDetails } from './errors.js';

export const ROLES = ['viewer', 'approver', 'editor', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];
export const roleRank: Record<Role, number> = { viewer: 0, approver: 1, editor: 2, admin: 3, owner: 4 };
export const hasRole = (role: Role, min: Role) => roleRank[role] >= roleRank[min];

/** API key scopes: `read` for GETs, `write` for changes and runs, `admin` for members/keys/accounts. */
export const SCOPES = ['read', 'write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Caller {
  user: { id: string; email: string; name: string | null };
  /** The workspace the request acts in (X-Workspace-Id, the key's workspace, or the session's current one). */
  workspaceId: string | null;
  role: Role | null;
  via: 'session' | 'apiKey';
  sessionId?: string;
  apiKeyId?: string;
  scopes?: Scope[];
}

export interface WorkspaceCaller extends Caller {
  workspaceId: string;
  role: Role;
}

/** `none`: public; `user`: any logged-in caller; a role: member of the current workspace with at least that role. */
export type AuthRequirement = 'none' | 'user' | Role;

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteContext<B, Q, P, A extends AuthRequirement> {
  req: Request;
  res: Response;
  body: B;
  query: Q;
  params: P;
  caller: A extends 'none' ? Caller | null : A extends 'user' ? Caller : WorkspaceCaller;
  ip: string;
}

export interface RouteSpec<
  B extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  P extends z.ZodType = z.ZodType,
  A extends AuthRequirement = AuthRequirement,
> {
  method: Method;
  path: string;
  summary: string;
  tags: string[];
  auth: A;
  /** API-key scope needed; defaults to `read` for GET and `write` otherwise. */
  scope?: Scope;
  body?: B;
  query?: Q;
  params?: P;
  response?: z.ZodType;
  /** Success status; 204 sends no body. */
  status?: number;
  /** Extra documented statuses besides the defaults. */
  errors?: number[];
  handler: (ctx: RouteContext<z.output<B>, z.output<Q>, z.output<P>, A>) => Promise<unknown>;
}

export type Authenticator = (req: Request) => Promise<Caller | null>;

interface Registered {
  spec: RouteSpec<z.ZodType, z.ZodType, z.ZodType, AuthRequirement>;
}

export class Api {
  readonly routes: Registered[] = [];
  constructor(
    readonly router: Router,
    private readonly authenticate: Authenticator,
  ) {}

  route<B extends z.ZodType = z.ZodUnknown, Q extends z.ZodType = z.ZodUnknown, P extends z.ZodType = z.ZodUnknown, A extends AuthRequirement = AuthRequirement>(
    spec: RouteSpec<B, Q, P, A>,
  ): void {
    const s = spec as unknown as RouteSpec<z.ZodType, z.ZodType, z.ZodType, AuthRequirement>;
    this.routes.push({ spec: s });
    this.router[s.method](s.path, async (req, res, next) => {
      try {
        const caller = s.auth === 'none' ? await this.authenticate(req).catch(() => null) : await this.authenticate(req);
        if (s.auth !== 'none') {
          if (!caller) throw unauthenticated();
          const scope = s.scope ?? (s.method === 'get' ? 'read' : 'write');
          if (caller.via === 'apiKey' && !(caller.scopes ?? []).includes(scope)) {
            throw forbidden(`This API key lacks the "${scope}" scope`);
          }
          if (s.auth !== 'user') {
            if (!caller.workspaceId || !caller.role) {
              throw new ApiError(400, 'BAD_REQUEST', 'No workspace selected: send X-Workspace-Id or create a workspace', [
                { path: 'header.x-workspace-id', message: 'required' },
              ]);
            }
            if (!hasRole(caller.role, s.auth)) {
              throw forbidden(`This action needs the ${s.auth} role or higher; you are ${caller.role}`);
            }
          }
        }
        const body = parse(s.body, req.body ?? {}, 'body');
        const query = parse(s.query, req.query ?? {}, 'query');
        const params = parse(s.params, req.params ?? {}, 'params');
        const result = await s.handler({ req, res, body, query, params, caller: caller as never, ip: clientIp(req) });
        if (res.headersSent) return;
        const status = s.status ?? 200;
        if (status === 204) res.status(204).end();
        else res.status(status).json(result ?? {});
      } catch (err) {
        next(err);
      }
    });
  }
}

/**
 * Strings PostgreSQL cannot store (NUL characters, lone UTF-16 surrogates, which break text and
 * jsonb columns): the path of the first one, or null.
 */
export function unstorableStringPath(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === 'string') {
    return value.includes('\u0000') || !(value as string & { isWellFormed(): boolean }).isWellFormed() ? path : null;
  }
  if (depth > 64 || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = unstorableStringPath(value[i], `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const keyBad = unstorableStringPath(k, `${path}.${k}`, depth + 1);
    if (keyBad) return keyBad;
    const p = unstorableStringPath(v, `${path}.${k}`, depth + 1);
    if (p) return p;
  }
  return null;
}

export function assertStorable(value: unknown, where: string): void {
  const bad = unstorableStringPath(value, where);
  if (bad) {
    throw new ApiError(400, 'VALIDATION_FAILED', `Invalid ${where}: ${bad} contains a NUL character or an unpaired surrogate`, [
      { path: bad, message: 'contains a NUL character or an unpaired UTF-16 surrogate' },
    ]);
  }
}

function parse(schema: z.ZodType | undefined, value: unknown, where: string): unknown {
  assertStorable(value, where);
  if (!schema) return value;
  const r = schema.safeParse(value);
  if (!r.success) {
    const details = zodDetails(r.error, where);
    throw new ApiError(400, 'VALIDATION_FAILED', `Invalid ${where}: ${details.map((d) => d.path).join(', ')}`, details);
  }
  return r.data;
}

export function clientIp(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

// ---------------------------------------------------------------- OpenAPI

const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ path: z.string(), message: z.string() })),
  }),
});

const statusText: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No content',
  400: 'Invalid input; `details` names each bad field',
  401: 'Not authenticated',
  403: 'Role or scope not allowed',
  404: 'Not found (or in another workspace)',
  409: 'Conflict (stale version, duplicate)',
  413: 'Body too large',
  415: 'Unsupported content type',
  429: 'Rate limited',
  504: 'Timed out waiting for the run',
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const js = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete js.$schema;
  return js;
}

function parametersFrom(schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input');
  const props = (js.properties ?? {}) as Record<string, Record<string, unknown>>;
  const required = new Set((js.required as string[] | undefined) ?? []);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' ? true : required.has(name),
    schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }));
}

export function openApiDocument(apis: Api[], info: { title: string; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const api of apis) {
    for (const { spec } of api.routes) {
      const p = spec.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      const op: Record<string, unknown> = {
        summary: spec.summary,
        tags: spec.tags,
        operationId: `${spec.method}${p.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
        parameters: [...parametersFrom(spec.params, 'path'), ...parametersFrom(spec.query, 'query')],
        responses: {} as Record<string, unknown>,
      };
      if (spec.auth !== 'none') op.security = [{ session: [] }, { bearer: [] }];
      else op.security = [];
      if (spec.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } } };
      const responses = op.responses as Record<string, unknown>;
      const ok = spec.status ?? 200;
      responses[String(ok)] =
        ok === 204
          ? { description: statusText[204] }
          : {
              description: statusText[ok] ?? 'OK',
              content: { 'application/json': { schema: spec.response ? jsonSchema(spec.response, 'output') : { type: 'object' } } },
            };
      const errs = new Set<number>([...(spec.body || spec.query || spec.params ? [400] : []), ...(spec.auth !== 'none' ? [401] : []), ...(spec.auth !== 'none' && spec.auth !== 'user' ? [403] : []), ...(spec.errors ?? [])]);
      if (spec.path.includes(':')) errs.add(404);
      for (const code of [...errs].sort()) {
        responses[String(code)] = { description: statusText[code] ?? 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
      }
      (paths[p] ??= {})[spec.method] = op;
    }
  }
  return {
    openapi: '3.1.0',
    info,
    paths,
    components: {
      schemas: { Error: jsonSchema(errorSchema, 'output') },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'gf_session' },
        bearer: { type: 'http', scheme: 'bearer', description: 'API key created with POST /api/api-keys' },
      },
    },
  };
}
