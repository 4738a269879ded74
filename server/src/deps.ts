/**
 * Everything `createApp` is given. The server never runs nodes itself: runs go through `engine`.
 */
import type { Logger } from 'pino';
import type { Engine, NodeRegistry, Json } from '@gridflow/runtime';
import type { Db } from './db.js';

/** @gridflow/db's cipher: `context` binds a value to where it is stored (e.g. `webhook_trigger:<id>`). */
export interface Crypto {
  encrypt(plaintext: string, context?: string): string;
  decrypt(ciphertext: string, context?: string): string;
}

export type Embedder = import('@gridflow/nodes/embedding/index').Embedder;

export type ApprovalDecisionInput = import('@gridflow/nodes/approval/decision').ApplyDecisionInput;
export type ApprovalDecisionResult = import('@gridflow/nodes/approval/decision').ApplyDecisionResult;

/** A template as @gridflow/templates ships it. */
export interface TemplateDefinition {
  slug: string;
  title: string;
  description: string;
  category: string;
  tags: string[];
  document: unknown;
  templateVersion: number;
  /** Connections, brand profile and fields the user must fill in after install. */
  requirements?: unknown;
  previewImageUrl?: string | null;
}

/** Runs one node outside a run (node test). Implemented by @gridflow/runtime's executeNodeOnce. */
export type ExecuteNodeOnce = (input: {
  workspaceId: string;
  gridId: string;
  document: unknown;
  nodeId: string;
  input?: Json;
  trigger?: Json;
}) => Promise<Json>;

export interface ServerOptions {
  /** Cookies with `Secure` (behind HTTPS). */
  secureCookies: boolean;
  /** Express `trust proxy` setting for client IPs behind a load balancer. */
  trustProxy: boolean | number | string;
  /** Allowed CORS origins; empty = CORS off. */
  corsOrigins: string[];
  jsonLimit: string;
  hookBodyLimit: string;
  loginRateLimit: { windowMs: number; max: number };
  hookRateLimit: { windowMs: number; max: number };
  /** Default wait for `onComplete` webhooks when the trigger node does not say. */
  hookTimeoutMs: number;
  publicUrl: string;
  /** Folder with the built editor (served at `/` with SPA fallback) when it exists. */
  editorDist?: string | null;
  /** Redis for socket.io fan-out across server processes (scaled mode). */
  redisUrl?: string | null;
  /** Run the outbound event delivery worker in this process. */
  deliveryWorker: boolean;
  deliveryPollMs: number;
  deliveryMaxAttempts: number;
  deliveryBaseBackoffMs: number;
  /** Outbound deliveries may reach private addresses (tests and on-prem receivers). */
  deliveryAllowPrivate: boolean;
}

export const defaultServerOptions: ServerOptions = {
  secureCookies: false,
  trustProxy: false,
  corsOrigins: [],
  jsonLimit: '2mb',
  hookBodyLimit: '1mb',
  loginRateLimit: { windowMs: 15 * 60_000, max: 20 },
  hookRateLimit: { windowMs: 1000, max: 10_000 },
  hookTimeoutMs: 30_000,
  publicUrl: 'http://localhost:3000',
  editorDist: null,
  redisUrl: null,
  deliveryWorker: true,
  deliveryPollMs: 1000,
  deliveryMaxAttempts: 5,
  deliveryBaseBackoffMs: 2000,
  deliveryAllowPrivate: false,
};

export interface AppDeps {
  db: Db;
  /** null until a runtime is wired: run routes answer 503. */
  engine: Engine | null;
  registry: NodeRegistry;
  crypto: Crypto;
  log?: Logger;
  options?: Partial<ServerOptions>;
  embedder?: Embedder;
  applyApprovalDecision?: (db: Db['prisma'], input: ApprovalDecisionInput) => Promise<ApprovalDecisionResult>;
  executeNodeOnce?: ExecuteNodeOnce;
  /** Templates to upsert at start (usually `loadTemplates()` of @gridflow/templates). */
  templates?: TemplateDefinition[];
  /** JSON Schema + ports + UI metadata per node type (`describeNodeTypes` of @gridflow/nodes). */
  describeNodeTypes?: (registry: NodeRegistry) => unknown;
  /** Cron helpers of the runtime, for syncing Schedule rows on publish. */
  nextRunAt?: (cron: string, timezone: string, from?: Date) => Date | null;
}
