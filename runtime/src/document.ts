/**
 * The grid document: the one JSON format shared by editor, server, runtime and templates.
 * Field names follow React Flow's (id, position, source, sourceHandle, target, targetHandle) so the
 * editor maps nodes and edges 1:1.
 */
import { z } from 'zod';

export const GRID_SCHEMA_VERSION = 1;

/** Node and edge ids: short, URL- and expression-safe. */
export const idSchema = z
  .string()
  .min(1, 'id must not be empty')
  .max(64, 'id must be at most 64 characters')
  .regex(/^[A-Za-z0-9_-]+$/, 'id may only contain letters, digits, "_" and "-"');

export const positionSchema = z.object({ x: z.number().finite(), y: z.number().finite() });

export const gridNodeSchema = z.object({
  id: idSchema,
  type: z.string().min(1, 'type is required'),
  typeVersion: z.number().int().positive(),
  name: z.string().min(1, 'name is required').max(120),
  position: positionSchema,
  config: z.record(z.string(), z.unknown()).default({}),
  disabled: z.boolean().optional(),
  notes: z.string().max(2000).optional(),
});

export const edgeKindSchema = z.enum(['default', 'conditional', 'error']);

export const gridEdgeSchema = z.object({
  id: idSchema,
  source: idSchema,
  /** Output port name of the source node; `error` for error edges. */
  sourceHandle: z.string().min(1).default('out'),
  target: idSchema,
  /** Input port name of the target node. */
  targetHandle: z.string().min(1).default('in'),
  kind: edgeKindSchema.default('default'),
});

export const retryPolicySchema = z.object({
  maxAttempts: z.number().int().min(1).max(20).default(1),
  backoffMs: z.number().int().min(0).max(3_600_000).default(1000),
  maxDelayMs: z.number().int().min(0).max(86_400_000).default(60_000),
});

export const gridSettingsSchema = z.object({
  /** Whole-run timeout. */
  timeoutMs: z.number().int().positive().max(30 * 86_400_000).default(24 * 3_600_000),
  /** Default per-node timeout (a node's own `timeoutMs` setting wins). */
  nodeTimeoutMs: z.number().int().positive().max(3_600_000).default(300_000),
  retry: retryPolicySchema.default({ maxAttempts: 1, backoffMs: 1000, maxDelayMs: 60_000 }),
  /** `stop`: a failed node without an error edge fails the run. `continue`: its successors are skipped, the rest goes on. */
  errorHandling: z.enum(['stop', 'continue']).default('stop'),
  /** Step input/output of finished runs older than this are pruned. */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  /** A step output larger than this fails the step. */
  maxPayloadBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(1024 * 1024),
});

export const gridDocumentSchema = z.object({
  schemaVersion: z.literal(GRID_SCHEMA_VERSION),
  nodes: z.array(gridNodeSchema).max(5000),
  edges: z.array(gridEdgeSchema).max(10000),
  settings: gridSettingsSchema.default(gridSettingsSchema.parse({})),
});

export type GridNode = z.infer<typeof gridNodeSchema>;
export type GridEdge = z.infer<typeof gridEdgeSchema>;
export type EdgeKind = z.infer<typeof edgeKindSchema>;
export type RetryPolicy = z.infer<typeof retryPolicySchema>;
export type GridSettings = z.infer<typeof gridSettingsSchema>;
export type GridDocument = z.infer<typeof gridDocumentSchema>;
/** What callers may write: defaults not yet applied. */
export type GridDocumentInput = z.input<typeof gridDocumentSchema>;

export function emptyGridDocument(): GridDocument {
  return gridDocumentSchema.parse({ schemaVersion: GRID_SCHEMA_VERSION, nodes: [], edges: [] });
}
