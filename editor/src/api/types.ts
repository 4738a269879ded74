/**
 * Shapes of the Gridflow HTTP API as the editor uses them. The grid document and runtime event
 * types come from `@gridflow/runtime` (browser-safe subpaths), never copies.
 */
import type { GridDocument, GridDocumentInput } from '@gridflow/runtime/document';
import type { ExecutionStatus, StepStatus } from '@gridflow/runtime/engine';

export type { GridDocument, GridDocumentInput, ExecutionStatus, StepStatus };

export type Role = 'admin' | 'editor' | 'approver' | 'viewer' | (string & {});

export interface ApiErrorDetail {
  path: string;
  message: string;
}

export interface User {
  id: string;
  email: string;
  name: string;
}

export interface WorkspaceRef {
  id: string;
  name: string;
  slug?: string;
  role: Role;
}

export interface Me {
  user: User;
  workspaces: WorkspaceRef[];
  /** The workspace requests act in. */
  currentWorkspaceId: string | null;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
}

export type GridStatus = 'draft' | 'published' | 'archived' | (string & {});

export interface GridSummary {
  id: string;
  name: string;
  description?: string | null;
  status: GridStatus;
  draftVersion: number;
  publishedVersion: number | null;
  lastRunStatus: ExecutionStatus | null;
  lastRunAt: string | null;
  runCount: number;
  successRate: number | null;
  createdAt: string;
  updatedAt: string;
}

/** A validation problem the server found in a draft, pointing at a node, an edge or the grid. */
export interface GridProblem {
  nodeId?: string;
  edgeId?: string;
  path: string;
  message: string;
}

export interface Grid extends GridSummary {
  document: GridDocument;
  problems: GridProblem[];
  webhook?: WebhookInfo | null;
}

export interface WebhookInfo {
  nodeId: string;
  path: string;
  url: string;
  /** Only right after publish or rotation: the server never shows a secret twice. */
  secret?: string | null;
  signed: boolean;
  isActive?: boolean;
  lastReceivedAt?: string | null;
}

export interface VersionSummary {
  version: number;
  note: string | null;
  createdAt: string;
  createdBy: { id: string; name: string; email?: string } | null;
  /** The version runs use (latest published). */
  current?: boolean;
}

export interface Version extends VersionSummary {
  document: GridDocument;
}

export interface ChangedField {
  path: string;
  before: unknown;
  after: unknown;
}

type IdOr<T> = string | (T & { id: string });
/** `GET …/diff/:b`: added/removed as ids or whole nodes/edges, changes as `fields` or `changes`. */
export interface VersionDiff {
  nodes: { added: IdOr<object>[]; removed: IdOr<object>[]; changed: { id: string; fields?: ChangedField[]; changes?: ChangedField[] }[]; moved?: string[] };
  edges: { added: IdOr<object>[]; removed: IdOr<object>[]; changed: { id: string; fields?: ChangedField[]; changes?: ChangedField[] }[] };
}

export interface StepErrorInfo {
  name?: string;
  message: string;
  kind?: string;
  code?: string;
  retriable?: boolean;
  details?: unknown;
}

export interface Step {
  id: string;
  nodeId: string;
  itemIndex: number | null;
  status: StepStatus;
  attempt: number;
  input: unknown;
  output: unknown;
  error: StepErrorInfo | null;
  startedAt: string | null;
  finishedAt: string | null;
  ports?: string[] | null;
}

export interface ExecutionSummary {
  id: string;
  gridId: string;
  gridName?: string;
  gridVersion: number | null;
  status: ExecutionStatus;
  triggerType: string;
  startedAt: string | null;
  finishedAt: string | null;
  createdAt: string;
  error: StepErrorInfo | null;
}

export interface Execution extends ExecutionSummary {
  steps: Step[];
  /** Document the run executed (version or test snapshot), when the server sends it. */
  document?: GridDocument | null;
  triggerData?: unknown;
  /** Last event seq included in this snapshot (live-stream resume point). */
  lastSeq?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Approval {
  id: string;
  executionId: string;
  gridId: string;
  gridName?: string;
  nodeId: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired' | (string & {});
  title?: string;
  content: {
    text: string;
    platform?: string | null;
    mediaUrls?: string[];
    hashtags?: string[];
  };
  guard?: { score: number; passed?: boolean; violations: { rule?: string; message: string; severity?: string }[] } | null;
  createdAt: string;
  decidedAt?: string | null;
  decidedBy?: { id: string; name: string } | null;
  comment?: string | null;
  canDecide: boolean;
  summary?: string | null;
  dueAt?: string | null;
}

export interface TemplateSummary {
  slug: string;
  title: string;
  description: string;
  category: string;
  tags: string[];
  requirements: { connections: string[]; brandProfile?: boolean; other?: string[] };
  nodeCount?: number;
  previewImageUrl?: string | null;
}

export interface Template extends TemplateSummary {
  document: GridDocument;
  setup?: SetupItem[];
}

export interface SetupItem {
  nodeId?: string;
  label: string;
  done?: boolean;
}

export interface InstallResult {
  grid: Grid;
  setup: SetupItem[];
  requirements: TemplateSummary['requirements'] | null;
}

export interface BrandProfile {
  id: string;
  name: string;
  palette: { primary?: string; secondary?: string; accent?: string; extra?: string[] };
  fonts: { heading?: string; body?: string };
  voiceTone: string;
  toneKeywords: string[];
  bannedTerms: string[];
  requiredTerms: string[];
  enforcementLevel: 'off' | 'advisory' | 'strict';
  minComplianceScore: number;
  isDefault?: boolean;
  createdAt?: string;
  updatedAt?: string;
}

export interface KnowledgeEntry {
  id: string;
  brandProfileId?: string | null;
  title: string;
  content: string;
  category?: string | null;
  tags?: string[];
  embedder?: string | null;
  createdAt?: string;
}

export type Platform = 'linkedin' | 'x' | 'facebook' | 'instagram' | (string & {});

export interface SocialAccount {
  id: string;
  platform: Platform;
  platformAccountId: string;
  username?: string | null;
  displayName?: string | null;
  status: string;
  /** Tokens are write-only: the server only says whether one is stored. */
  hasAccessToken: boolean;
  hasRefreshToken?: boolean;
  tokenExpiresAt?: string | null;
  createdAt?: string;
}

export interface SocialAccountInput {
  platform: Platform;
  platformAccountId: string;
  username?: string;
  displayName?: string;
  accessToken?: string;
  refreshToken?: string;
}

export interface PortInfo {
  name: string;
  label: string;
}

/** How output ports follow the config: one port per element of `config[field]`, then `append`. */
export interface DynamicOutputs {
  field: string;
  itemName: string;
  itemLabel: string;
  append: string[];
}

/** A node type as described by `GET /api/node-types`. */
export interface NodeTypeInfo {
  type: string;
  version: number;
  label: string;
  description: string;
  icon: string;
  category: string;
  isTrigger: boolean;
  inputs: { name: string; label: string }[];
  outputs: { name: string; label: string }[];
  /** Set when output ports depend on the config (branch routes); see `lib/ports.ts`. */
  dynamicOutputs?: DynamicOutputs | null;
  configSchema: JsonSchema;
  /** Output fields this node produces (for the expression picker), when the server knows them. */
  outputFields?: string[];
}

/** The subset of JSON Schema (draft 2020-12, as produced by zod) the settings form understands. */
export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  'x-gridflow-widget'?: 'code' | 'expression' | 'keyValue' | 'textarea' | 'secret' | (string & {});
  [key: string]: unknown;
}

export interface NodeTestResult {
  input: unknown;
  output: unknown;
  ports?: string[];
  error?: StepErrorInfo | null;
  durationMs?: number;
  status?: string;
}
