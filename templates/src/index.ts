/**
 * @gridflow/templates: the shipped template gallery. `loadTemplates()` reads `templates/*.json`,
 * checks each file's format and returns what the server upserts at start (`syncTemplates`), with a
 * generated SVG preview. Node-only (reads files); `preview.ts`, `setup.ts`, `template-schema.ts`
 * and `validate.ts` are browser-safe.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GridDocument } from '@gridflow/runtime/document';
import type { Json } from '@gridflow/runtime/node-type';
import { svgDataUrl, templatePreviewSvg, type PreviewOptions } from './preview.js';
import { templateFileSchema, type TemplateFile } from './template-schema.js';

export { templatePreviewSvg, svgDataUrl, escapeXml, type PreviewOptions } from './preview.js';
export { applySetup, missingSetup, SetupError, type SetupAnswers } from './setup.js';
export {
  templateFileSchema,
  TEMPLATE_CATEGORIES,
  type TemplateFile,
  type TemplateFileInput,
  type TemplateCategory,
  type SetupItem,
} from './template-schema.js';
export { validateTemplate, registryForDocument, type TemplateProblem } from './validate.js';

/** Folder holding the `<slug>.json` files (the workspace root). */
export const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * A loaded template. `slug`, `title`, `description`, `category`, `tags`, `document`,
 * `templateVersion`, `requirements` and `previewImageUrl` are the server's `TemplateDefinition`;
 * `requirements` carries everything the gallery and install form show (connections, brand profile,
 * setup checklist, sample trigger).
 */
export interface LoadedTemplate extends Omit<TemplateFile, 'requirements'> {
  document: GridDocument;
  requirements: {
    connections: TemplateFile['requiredConnections'];
    brandProfile: TemplateFile['requirements']['brandProfile'];
    brandKnowledge: boolean;
    approvers: boolean;
    notes: string[];
    setupChecklist: TemplateFile['setupChecklist'];
    sampleTrigger: Json | null;
  } & { [key: string]: Json | unknown };
  previewSvg: string;
  previewImageUrl: string;
  /** File the template came from. */
  file: string;
}

export class TemplateFileError extends Error {
  override name = 'TemplateFileError';
}

export function parseTemplateFile(
  text: string,
  file: string,
  preview: PreviewOptions = {},
): LoadedTemplate {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TemplateFileError(`${file}: not valid JSON: ${(err as Error).message}`);
  }
  const parsed = templateFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`)
      .join('; ');
    throw new TemplateFileError(`${file}: ${issues}`);
  }
  const t = parsed.data;
  const expected = `${t.slug}.json`;
  if (!file.endsWith(expected))
    throw new TemplateFileError(`${file}: the file name must be ${expected} (the slug)`);
  const previewSvg = templatePreviewSvg(t.document, preview);
  return {
    ...t,
    requirements: {
      connections: t.requiredConnections,
      brandProfile: t.requirements.brandProfile,
      brandKnowledge: t.requirements.brandKnowledge,
      approvers: t.requirements.approvers,
      notes: t.requirements.notes,
      setupChecklist: t.setupChecklist,
      sampleTrigger: (t.sampleTrigger ?? null) as Json,
    },
    previewSvg,
    previewImageUrl: svgDataUrl(previewSvg),
    file,
  };
}

/** Reads every `*.json` template in `dir` (default: this workspace), sorted by slug. Throws on a bad file. */
export function loadTemplates(
  options: { dir?: string; preview?: PreviewOptions } = {},
): LoadedTemplate[] {
  const dir = options.dir ?? TEMPLATES_DIR;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'package.json' && f !== 'tsconfig.json')
    .sort();
  const templates = files.map((f) =>
    parseTemplateFile(readFileSync(join(dir, f), 'utf8'), f, options.preview ?? {}),
  );
  const slugs = new Set<string>();
  for (const t of templates) {
    if (slugs.has(t.slug)) throw new TemplateFileError(`two templates have the slug "${t.slug}"`);
    slugs.add(t.slug);
  }
  return templates.sort((a, b) => a.slug.localeCompare(b.slug));
}
