/**
 * The one typed client for the Gridflow HTTP API. Every screen goes through it, so adapting to
 * the server's exact shapes happens here and nowhere else. Responses are normalised defensively:
 * `{ grid: {...} }` and `{...}` are both accepted, list endpoints may answer with an array or with
 * `{ items, nextCursor }`.
 */
import type {
  ApiErrorDetail,
  Approval,
  BrandProfile,
  Execution,
  ExecutionSummary,
  Grid,
  GridDocument,
  GridDocumentInput,
  GridProblem,
  GridSummary,
  InstallResult,
  KnowledgeEntry,
  Me,
  Member,
  NodeTestResult,
  NodeTypeInfo,
  Page,
  SocialAccount,
  SocialAccountInput,
  Template,
  TemplateSummary,
  Version,
  VersionDiff,
  VersionSummary,
  WebhookInfo,
  WorkspaceRef,
} from './types.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ApiErrorDetail[] = [],
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
  get isConflict(): boolean {
    return this.status === 409;
  }
}

type Json = Record<string, unknown>;

const WORKSPACE_KEY = 'gridflow.workspaceId';

/** The workspace the user picked; sent as `X-Workspace-Id` on every request. */
export function currentWorkspaceId(): string | null {
  try {
    return localStorage.getItem(WORKSPACE_KEY);
  } catch {
    return null;
  }
}
export function setCurrentWorkspaceId(id: string | null): void {
  try {
    if (id) localStorage.setItem(WORKSPACE_KEY, id);
    else localStorage.removeItem(WORKSPACE_KEY);
  } catch {
    /* storage unavailable: header simply not sent */
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const ws = currentWorkspaceId();
  if (ws) headers['X-Workspace-Id'] = ws;
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? (opts.body !== undefined ? 'POST' : 'GET'),
      headers,
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.');
  }
  const text = await res.text();
  let body: unknown = null;
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (res.status === 401 && !path.startsWith('/api/auth/') && path !== '/api/me' && typeof window !== 'undefined') {
    window.dispatchEvent(new Event('gridflow:unauthorized'));
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string; details?: ApiErrorDetail[] } } | null)?.error;
    throw new ApiError(
      res.status,
      e?.code ?? `http_${res.status}`,
      e?.message ?? (typeof body === 'string' && body ? body.slice(0, 200) : `Request failed (${res.status})`),
      Array.isArray(e?.details) ? e!.details : [],
      body,
    );
  }
  return body as T;
}

function unwrap<T>(body: unknown, key: string): T {
  if (body && typeof body === 'object' && key in (body as Json)) return (body as Json)[key] as T;
  return body as T;
}

function list<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  const b = body as Json | null;
  if (b && Array.isArray(b[key])) return b[key] as T[];
  if (b && Array.isArray(b.items)) return b.items as T[];
  return [];
}

function page<T>(body: unknown, key: string): Page<T> {
  const b = body as Json | null;
  return { items: list<T>(body, key), nextCursor: (b && !Array.isArray(b) ? (b.nextCursor as string | null) : null) ?? null };
}

const qs = (params: Record<string, string | number | undefined | null>) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
};

// ---------- normalisers (tolerate field-name variations of the server) ----------

function normMe(b: unknown): Me {
  const body = b as Json;
  const user = (body.user ?? body) as Me['user'];
  const rawWs = (body.memberships ?? body.workspaces ?? (user as unknown as Json).workspaces ?? []) as Json[];
  const workspaces: WorkspaceRef[] = rawWs.map((w) => {
    const inner = (w.workspace ?? w) as Json;
    return {
      id: String(inner.id ?? w.workspaceId),
      name: String(inner.name ?? 'Workspace'),
      slug: inner.slug as string | undefined,
      role: String(w.role ?? inner.role ?? 'viewer'),
    };
  });
  const cur = (body.currentWorkspaceId ?? (body.workspace as Json | undefined)?.id ?? workspaces[0]?.id ?? null) as string | null;
  return { user: { id: String(user.id), email: String(user.email), name: String(user.name ?? user.email) }, workspaces, currentWorkspaceId: cur };
}

function normGridSummary(g: Json): GridSummary {
  const stats = (g.stats ?? {}) as Json;
  const lastRun = (g.lastRun ?? null) as Json | null;
  const runCount = Number(g.runCount ?? stats.runCount ?? stats.runs ?? 0);
  const successRate = (g.successRate ?? stats.successRate ?? null) as number | null;
  return {
    id: String(g.id),
    name: String(g.name ?? 'Untitled grid'),
    description: (g.description as string | null) ?? null,
    status: String(g.status ?? (g.publishedVersion ? 'published' : 'draft')),
    draftVersion: Number(g.draftVersion ?? g.version ?? 0),
    publishedVersion: (g.publishedVersion ?? g.latestVersion ?? null) as number | null,
    lastRunStatus: (g.lastRunStatus ?? lastRun?.status ?? null) as GridSummary['lastRunStatus'],
    lastRunAt: (g.lastRunAt ?? lastRun?.startedAt ?? lastRun?.createdAt ?? null) as string | null,
    runCount,
    successRate: successRate === null || successRate === undefined ? null : Number(successRate),
    createdAt: String(g.createdAt ?? ''),
    updatedAt: String(g.updatedAt ?? g.createdAt ?? ''),
  };
}

function normProblems(raw: unknown): GridProblem[] {
  // `{ validation: { ok, errors: [{ code, message, nodeId, edgeId, field }], warnings } }` or a plain list.
  const list = Array.isArray(raw) ? raw : raw && typeof raw === 'object' && Array.isArray((raw as Json).errors) ? ((raw as Json).errors as Json[]) : [];
  return list.map((p: Json) => ({
    nodeId: p.nodeId as string | undefined,
    edgeId: p.edgeId as string | undefined,
    path: String(p.field ?? p.path ?? ''),
    message: String(p.message ?? ''),
  }));
}

function normGrid(b: unknown): Grid {
  const g = unwrap<Json>(b, 'grid');
  const doc = (g.document ?? g.draft ?? g.definition) as GridDocument;
  return {
    ...normGridSummary(g),
    document: doc,
    problems: normProblems(g.problems ?? g.validation ?? (b as Json).validation ?? (b as Json).problems),
    webhook: (g.webhook ?? null) as Grid['webhook'],
  };
}

function normVersionSummary(v: Json): VersionSummary {
  const by = (v.createdBy ?? v.publishedBy ?? v.author ?? (v.publishedById ? { id: v.publishedById } : null)) as Json | null;
  return {
    version: Number(v.number ?? v.version ?? v.n),
    note: (v.note as string | null) ?? null,
    createdAt: String(v.publishedAt ?? v.createdAt ?? ''),
    createdBy: by ? { id: String(by.id ?? ''), name: String(by.name ?? by.email ?? ''), email: by.email as string | undefined } : null,
    current: v.current as boolean | undefined,
  };
}

function normExecutionSummary(e: Json): ExecutionSummary {
  return {
    id: String(e.id),
    gridId: String(e.gridId ?? ''),
    gridName: e.gridName as string | undefined,
    gridVersion: (e.gridVersion ?? e.version ?? null) as number | null,
    status: e.status as ExecutionSummary['status'],
    triggerType: String(e.triggerType ?? e.mode ?? 'manual'),
    startedAt: (e.startedAt ?? null) as string | null,
    finishedAt: (e.finishedAt ?? null) as string | null,
    createdAt: String(e.createdAt ?? e.startedAt ?? ''),
    error: (e.error ?? null) as ExecutionSummary['error'],
  };
}

function normExecution(b: unknown): Execution {
  const e = unwrap<Json>(b, 'execution');
  const steps = (e.steps ?? (b as Json).steps ?? []) as Json[];
  return {
    ...normExecutionSummary(e),
    steps: steps.map((s) => ({
      id: String(s.id ?? `${s.nodeId}:${s.itemIndex ?? ''}`),
      nodeId: String(s.nodeId),
      itemIndex: (s.itemIndex ?? null) as number | null,
      status: s.status as Execution['steps'][number]['status'],
      attempt: Number(s.attempt ?? s.attempts ?? 1),
      input: s.input ?? null,
      output: s.output ?? s.outputPreview ?? null,
      error: (s.error ?? null) as Execution['steps'][number]['error'],
      startedAt: (s.startedAt ?? null) as string | null,
      finishedAt: (s.finishedAt ?? null) as string | null,
      ports: (s.ports ?? null) as string[] | null,
    })),
    document: (e.document ?? null) as GridDocument | null,
    triggerData: e.triggerData,
    lastSeq: (e.eventSeq ?? e.lastSeq ?? e.seq) as number | undefined,
  };
}

function normNodeType(t: Json): NodeTypeInfo {
  return {
    type: String(t.type),
    version: Number(t.version ?? 1),
    label: String(t.label ?? t.type),
    description: String(t.description ?? ''),
    icon: String(t.icon ?? '⬚'),
    category: String(t.category ?? 'utility'),
    isTrigger: Boolean(t.isTrigger),
    inputs: (t.inputs ?? []) as NodeTypeInfo['inputs'],
    outputs: (t.outputs ?? []) as NodeTypeInfo['outputs'],
    dynamicOutputs: (t.dynamicOutputs ?? null) as NodeTypeInfo['dynamicOutputs'],
    configSchema: (t.configSchema ?? t.schema ?? t.jsonSchema ?? { type: 'object', properties: {} }) as NodeTypeInfo['configSchema'],
    outputFields: t.outputFields as string[] | undefined,
  };
}

function normApproval(a: Json): Approval {
  const payload = (a.payload ?? a.content ?? {}) as Json | string;
  const p = (typeof payload === 'string' ? { content: payload } : payload) as Json;
  const c = p.content;
  const text = typeof c === 'string' ? c : String((c as Json | undefined)?.text ?? p.text ?? p.post ?? '');
  const guardRaw = (p.guard ?? p.brandGuard ?? p.guardResult ?? a.guard ?? null) as Json | null;
  const guard = guardRaw
    ? {
        score: Number(guardRaw.score ?? 0),
        passed: guardRaw.passed as boolean | undefined,
        violations: ((guardRaw.violations ?? []) as Json[]).map((v) => ({
          rule: (v.rule ?? v.code) as string | undefined,
          message: String(v.message ?? v.term ?? JSON.stringify(v)),
          severity: v.severity as string | undefined,
        })),
      }
    : null;
  return {
    id: String(a.id),
    executionId: String(a.executionId ?? ''),
    gridId: String(a.gridId ?? p.gridId ?? ''),
    gridName: (a.gridName ?? p.gridName) as string | undefined,
    nodeId: String(a.nodeId ?? ''),
    status: String(a.status ?? 'pending'),
    title: (a.title ?? a.nodeName) as string | undefined,
    summary: (a.summary ?? null) as string | null,
    content: {
      text,
      platform: ((c as Json | undefined)?.platform ?? p.platform ?? null) as string | null,
      mediaUrls: (p.mediaUrls ?? []) as string[],
      hashtags: (p.hashtags ?? []) as string[],
    },
    guard,
    createdAt: String(a.createdAt ?? ''),
    decidedAt: (a.resolvedAt ?? a.decidedAt ?? null) as string | null,
    decidedBy: (a.decidedBy ?? null) as Approval['decidedBy'],
    comment: (a.comment ?? null) as string | null,
    canDecide: a.canDecide === undefined ? true : Boolean(a.canDecide),
    dueAt: (a.dueAt ?? null) as string | null,
  };
}

function normTemplate(t: Json): Template {
  const req = (t.requirements ?? t.requires ?? {}) as Json;
  return {
    slug: String(t.slug),
    title: String(t.title ?? t.name ?? t.slug),
    description: String(t.description ?? ''),
    category: String(t.category ?? 'Other'),
    tags: (t.tags ?? []) as string[],
    requirements: {
      connections: ((req.connections ?? t.requiredConnections ?? []) as unknown[]).map((c) =>
        typeof c === 'string' ? c : String((c as Json).platform ?? (c as Json).label ?? (c as Json).kind ?? JSON.stringify(c)),
      ),
      brandProfile: Boolean(req.brandProfile ?? t.requiresBrandProfile),
      other: (req.other ?? []) as string[],
    },
    previewImageUrl: (t.previewImageUrl ?? null) as string | null,
    nodeCount: (t.nodeCount ?? (t.document as GridDocument | undefined)?.nodes.length) as number | undefined,
    document: t.document as GridDocument,
    setup: (t.setup ?? t.checklist) as Template['setup'],
  };
}

function normBrand(b: Json): BrandProfile {
  return {
    id: String(b.id),
    name: String(b.name ?? ''),
    palette: (b.palette ?? {}) as BrandProfile['palette'],
    fonts: (b.fonts ?? {}) as BrandProfile['fonts'],
    voiceTone: String(b.voiceTone ?? ''),
    toneKeywords: (b.toneKeywords ?? []) as string[],
    bannedTerms: (b.bannedTerms ?? []) as string[],
    requiredTerms: (b.requiredTerms ?? []) as string[],
    enforcementLevel: (b.enforcementLevel ?? 'advisory') as BrandProfile['enforcementLevel'],
    minComplianceScore: Number(b.minComplianceScore ?? 0.7),
    isDefault: Boolean(b.isDefault),
    createdAt: b.createdAt as string | undefined,
    updatedAt: b.updatedAt as string | undefined,
  };
}

function normAccount(a: Json): SocialAccount {
  return {
    id: String(a.id),
    platform: String(a.platform),
    platformAccountId: String(a.platformAccountId ?? ''),
    username: (a.username ?? null) as string | null,
    displayName: (a.displayName ?? null) as string | null,
    status: String(a.status ?? 'connected'),
    hasAccessToken: Boolean(a.hasAccessToken),
    hasRefreshToken: Boolean(a.hasRefreshToken),
    tokenExpiresAt: (a.tokenExpiresAt ?? null) as string | null,
    createdAt: a.createdAt as string | undefined,
  };
}

// ---------------------------------- endpoints ----------------------------------

export const api = {
  // auth
  async signup(input: { email: string; password: string; name: string; workspaceName: string }): Promise<Me> {
    const r = await request<Json>('/api/auth/signup', { body: input });
    const ws = (r?.workspace as Json | undefined)?.id;
    if (typeof ws === 'string') setCurrentWorkspaceId(ws);
    return api.me();
  },
  async login(input: { email: string; password: string }): Promise<Me> {
    const r = await request<Json>('/api/auth/login', { body: input });
    const ws = (r?.workspace as Json | undefined)?.id;
    if (typeof ws === 'string') setCurrentWorkspaceId(ws);
    return api.me();
  },
  logout: () => request<void>('/api/auth/logout', { method: 'POST', body: {} }),
  me: async (): Promise<Me> => normMe(await request('/api/me')),
  switchWorkspace: (workspaceId: string) => request<unknown>('/api/auth/switch-workspace', { body: { workspaceId } }),

  // workspaces
  createWorkspace: async (name: string): Promise<WorkspaceRef> => {
    const w = unwrap<Json>(await request('/api/workspaces', { body: { name } }), 'workspace');
    return { id: String(w.id), name: String(w.name), role: String(w.role ?? 'owner') };
  },
  members: async (): Promise<Member[]> =>
    list<Json>(await request('/api/members'), 'members').map((m) => {
      const u = (m.user ?? m) as Json;
      return { userId: String(m.userId ?? u.id), email: String(u.email ?? ''), name: String(u.name ?? u.email ?? ''), role: String(m.role ?? 'viewer') };
    }),

  // node types
  nodeTypes: async (): Promise<NodeTypeInfo[]> => list<Json>(await request('/api/node-types'), 'nodeTypes').map(normNodeType),

  // grids
  listGrids: async (params: { q?: string; status?: string } = {}): Promise<GridSummary[]> =>
    list<Json>(await request(`/api/grids${qs(params)}`), 'grids').map(normGridSummary),
  createGrid: async (input: { name: string; document?: GridDocumentInput; description?: string }): Promise<Grid> =>
    normGrid(await request('/api/grids', { body: input })),
  getGrid: async (id: string): Promise<Grid> => normGrid(await request(`/api/grids/${id}`)),
  /** Saves the draft; 409 (ApiError.isConflict) when `draftVersion` is stale. */
  saveGrid: async (id: string, draftVersion: number, input: { name?: string; document?: GridDocumentInput }): Promise<Grid> =>
    normGrid(
      await request(`/api/grids/${id}`, {
        method: 'PUT',
        headers: { 'If-Match': `"${draftVersion}"` },
        body: input,
      }),
    ),
  deleteGrid: (id: string) => request<void>(`/api/grids/${id}`, { method: 'DELETE' }),
  exportGrid: (id: string) => request<unknown>(`/api/grids/${id}/export`),
  importGrid: async (payload: unknown): Promise<Grid> => normGrid(await request('/api/grids/import', { body: payload })),
  webhooks: async (id: string): Promise<WebhookInfo[]> => list<WebhookInfo>(await request(`/api/grids/${id}/webhooks`), 'webhooks'),
  rotateWebhookSecret: (id: string, nodeId: string) => request<{ nodeId: string; secret: string }>(`/api/grids/${id}/webhooks/${nodeId}/secret`, { body: {} }),

  // versions
  publish: async (id: string, note: string, draftVersion?: number): Promise<{ version: VersionSummary; webhooks: WebhookInfo[] }> => {
    const b = await request<Json>(`/api/grids/${id}/versions`, { body: { note, ...(draftVersion ? { draftVersion } : {}) } });
    return {
      version: normVersionSummary(unwrap<Json>(b, 'version')),
      webhooks: ((b?.webhooks ?? []) as Json[]).map((w) => ({ nodeId: String(w.nodeId), path: String(w.path), url: String(w.url), secret: (w.secret ?? null) as string | null, signed: !!w.secret })),
    };
  },
  versions: async (id: string): Promise<VersionSummary[]> =>
    list<Json>(await request(`/api/grids/${id}/versions`), 'versions').map(normVersionSummary),
  version: async (id: string, n: number): Promise<Version> => {
    const v = unwrap<Json>(await request(`/api/grids/${id}/versions/${n}`), 'version');
    return { ...normVersionSummary(v), document: (v.document ?? v.definition) as GridDocument };
  },
  diff: async (id: string, a: number | 'draft', b: number | 'draft'): Promise<VersionDiff> =>
    unwrap<VersionDiff>(await request(`/api/grids/${id}/versions/${a}/diff/${b}`), 'diff'),
  restore: async (id: string, n: number): Promise<Grid> => normGrid(await request(`/api/grids/${id}/versions/${n}/restore`, { body: {} })),

  // runs
  run: async (id: string, input: unknown, mode: 'production' | 'test'): Promise<{ executionId: string }> => {
    const b = (await request<Json>(`/api/grids/${id}/runs`, { body: { input, version: mode === 'test' ? 'draft' : 'published' } })) ?? {};
    return { executionId: String(b.executionId ?? (b.execution as Json | undefined)?.id ?? b.id) };
  },
  executions: async (params: { gridId?: string; status?: string; cursor?: string | null; limit?: number }): Promise<Page<ExecutionSummary>> => {
    const p = page<Json>(await request(`/api/executions${qs({ gridId: params.gridId, status: params.status, cursor: params.cursor, limit: params.limit })}`), 'executions');
    return { items: p.items.map(normExecutionSummary), nextCursor: p.nextCursor };
  },
  execution: async (id: string): Promise<Execution> => normExecution(await request(`/api/executions/${id}`)),
  cancel: (id: string) => request<unknown>(`/api/executions/${id}/cancel`, { body: {} }),
  retry: async (id: string): Promise<{ executionId: string }> => {
    const b = (await request<Json>(`/api/executions/${id}/retry`, { body: {} })) ?? {};
    return { executionId: String(b.executionId ?? (b.execution as Json | undefined)?.id ?? b.id) };
  },
  testNode: async (gridId: string, nodeId: string, input: unknown, document?: GridDocumentInput): Promise<NodeTestResult> => {
    const b = (await request<Json>(`/api/grids/${gridId}/nodes/${nodeId}/test`, { body: { input, ...(document ? { document } : {}) } })) ?? {};
    const r = unwrap<Json>(b, 'result');
    return {
      input: r.input ?? input,
      output: r.output ?? null,
      ports: r.ports as string[] | undefined,
      error: (r.error ?? null) as NodeTestResult['error'],
      durationMs: r.durationMs as number | undefined,
      status: (r.status ?? r.kind) as string | undefined,
    };
  },

  // approvals
  approvals: async (status = 'pending'): Promise<Approval[]> =>
    list<Json>(await request(`/api/approvals${qs({ status })}`), 'approvals').map(normApproval),
  decide: (id: string, decision: 'approve' | 'reject', comment: string) =>
    request<unknown>(`/api/approvals/${id}/decision`, { body: { decision, ...(comment ? { comment } : {}) } }),

  // templates
  templates: async (): Promise<TemplateSummary[]> => list<Json>(await request('/api/templates'), 'templates').map(normTemplate),
  template: async (slug: string): Promise<Template> => normTemplate(unwrap<Json>(await request(`/api/templates/${slug}`), 'template')),
  installTemplate: async (slug: string): Promise<InstallResult> => {
    const b = (await request<Json>(`/api/templates/${slug}/install`, { body: {} })) ?? {};
    const grid = normGrid(b);
    const req = (b.requirements ?? null) as Json | null;
    return {
      grid,
      setup: ((b.setup ?? b.checklist ?? []) as InstallResult['setup']),
      requirements: req ? normTemplate({ slug, requirements: req }).requirements : null,
    };
  },

  // brand profiles and knowledge
  brandProfiles: async (): Promise<BrandProfile[]> => list<Json>(await request('/api/brand-profiles'), 'brandProfiles').map(normBrand),
  saveBrandProfile: async (p: Omit<BrandProfile, 'id' | 'createdAt' | 'updatedAt'> & { id?: string }): Promise<BrandProfile> => {
    const { id, ...body } = p;
    const b = id ? await request(`/api/brand-profiles/${id}`, { method: 'PATCH', body }) : await request('/api/brand-profiles', { body });
    return normBrand(unwrap<Json>(b, 'brandProfile'));
  },
  deleteBrandProfile: (id: string) => request<void>(`/api/brand-profiles/${id}`, { method: 'DELETE' }),
  knowledge: async (brandId: string): Promise<KnowledgeEntry[]> => list<KnowledgeEntry>(await request(`/api/brand-profiles/${brandId}/knowledge`), 'entries'),
  addKnowledge: async (brandId: string, e: { title?: string; content: string; category?: string }): Promise<KnowledgeEntry> =>
    unwrap<KnowledgeEntry>(await request(`/api/brand-profiles/${brandId}/knowledge`, { body: e }), 'entry'),
  deleteKnowledge: (id: string) => request<void>(`/api/knowledge/${id}`, { method: 'DELETE' }),

  // social accounts (tokens are write-only)
  socialAccounts: async (): Promise<SocialAccount[]> => list<Json>(await request('/api/social-accounts'), 'socialAccounts').map(normAccount),
  saveSocialAccount: async (id: string | null, a: Partial<SocialAccountInput>): Promise<SocialAccount> => {
    const body: Json = {};
    for (const [k, v] of Object.entries(a)) if (v !== undefined && v !== '') body[k] = v;
    const b = id ? await request(`/api/social-accounts/${id}`, { method: 'PATCH', body }) : await request('/api/social-accounts', { body });
    return normAccount(unwrap<Json>(b, 'socialAccount'));
  },
  deleteSocialAccount: (id: string) => request<void>(`/api/social-accounts/${id}`, { method: 'DELETE' }),
};

export type Api = typeof api;

/**
 * Maps a 400's `details` onto nodes and edges. Paths are `nodes.<id>.config.text` (the server's
 * validation) or `document.nodes.<index>.…` (schema errors of an imported file).
 */
export function problemsFromDetails(details: ApiErrorDetail[], doc: Pick<GridDocumentInput, 'nodes' | 'edges'>): GridProblem[] {
  const nodeIds = new Set(doc.nodes.map((n) => n.id));
  const edgeIds = new Set(doc.edges.map((e) => e.id));
  return details.map((d) => {
    const m = /(?:^|\.)(nodes|edges)\.([^.]+)(?:\.(.*))?$/.exec(d.path);
    if (m) {
      const [, kind, key, rest = ''] = m as unknown as [string, 'nodes' | 'edges', string, string | undefined];
      if (kind === 'nodes') {
        const id = nodeIds.has(key) ? key : /^\d+$/.test(key) ? doc.nodes[Number(key)]?.id : undefined;
        return { nodeId: id, path: rest, message: d.message };
      }
      const id = edgeIds.has(key) ? key : /^\d+$/.test(key) ? doc.edges[Number(key)]?.id : undefined;
      return { edgeId: id, path: rest, message: d.message };
    }
    return { path: d.path, message: d.message };
  });
}
