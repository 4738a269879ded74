/**
 * The template file format (`templates/<slug>.json`): gallery metadata, what the template needs,
 * the setup checklist, and the grid document (runtime/src/document.ts format). Browser-safe.
 */
import { z } from 'zod';
import { gridDocumentSchema } from '@gridflow/runtime/document';

export const TEMPLATE_CATEGORIES = [
  'publishing',
  'events',
  'analytics',
  'experiments',
  'compliance',
  'repurposing',
  'reliability',
  'brand',
] as const;

export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

export const connectionSchema = z.object({
  /** `socialAccount`: a connected platform account; `webhook`: an outbound URL the user pastes; `openai`: an API key on the server. */
  kind: z.enum(['socialAccount', 'webhook', 'openai']),
  platform: z.enum(['linkedin', 'x', 'facebook', 'instagram', 'generic']).optional(),
  /** Optional connections have a working fallback (offline writer, generic/fake connector). */
  optional: z.boolean().default(true),
  /** What happens without it, shown in the gallery. */
  fallback: z.string().max(300).optional(),
  description: z.string().max(300),
});

/** Where a setup answer is written: a node's config field (dotted path, e.g. `rules.disclaimer`). */
export const setupTargetSchema = z.object({
  nodeId: z.string().min(1),
  field: z.string().min(1),
});

export const setupItemSchema = z.object({
  id: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_-]*$/),
  label: z.string().min(1).max(200),
  /** What the install form asks for. */
  kind: z.enum([
    'brandProfile',
    'socialAccount',
    'text',
    'url',
    'number',
    'datetime',
    'timezone',
    'secret',
    'users',
  ]),
  platform: z.enum(['linkedin', 'x', 'facebook', 'instagram', 'generic']).optional(),
  /** Without an answer the value in the document is used (it must work on a fresh install). */
  required: z.boolean().default(false),
  help: z.string().max(500).optional(),
  /** An example answer: the install form's placeholder, and what tests install the template with. */
  example: z.json().optional(),
  targets: z.array(setupTargetSchema).default([]),
});

export const templateFileSchema = z.object({
  slug: z.string().regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'slug: lowercase words joined by "-"'),
  title: z.string().min(1).max(120),
  description: z.string().min(1).max(1000),
  category: z.enum(TEMPLATE_CATEGORIES),
  tags: z.array(z.string().regex(/^[a-z0-9-]+$/, 'tags are lowercase')).max(20),
  /** Bump when the template changes: the server rewrites its copy at start when this differs. */
  templateVersion: z.number().int().positive(),
  requiredConnections: z.array(connectionSchema).default([]),
  requirements: z
    .object({
      brandProfile: z.enum(['required', 'optional', 'none']).default('none'),
      brandKnowledge: z.boolean().default(false),
      approvers: z.boolean().default(false),
      notes: z.array(z.string().max(300)).default([]),
    })
    .default({ brandProfile: 'none', brandKnowledge: false, approvers: false, notes: [] }),
  setupChecklist: z.array(setupItemSchema).default([]),
  /** A sample trigger payload for a test run (webhook body, run-form values). */
  sampleTrigger: z.json().optional(),
  document: gridDocumentSchema,
});

export type TemplateFile = z.infer<typeof templateFileSchema>;
export type TemplateFileInput = z.input<typeof templateFileSchema>;
export type SetupItem = z.infer<typeof setupItemSchema>;
