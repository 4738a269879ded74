/**
 * Installing a template: the setup checklist's answers (brand profile, accounts, URLs…) are written
 * into the node configs they target, giving the document of the new draft grid. Pure.
 */
import type { GridDocument } from '@gridflow/runtime/document';
import type { SetupItem, TemplateFile } from './template-schema.js';

export type SetupAnswers = Record<string, unknown>;

export class SetupError extends Error {
  override name = 'SetupError';
  constructor(
    message: string,
    readonly itemId: string,
  ) {
    super(message);
  }
}

function setField(config: Record<string, unknown>, field: string, value: unknown): void {
  const keys = field.split('.');
  let cur: Record<string, unknown> = config;
  for (const key of keys.slice(0, -1)) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype')
      throw new Error(`bad field "${field}"`);
    const next = cur[key];
    // Arrays stay arrays: `routes.0.conditions.0.value` and `mediaUrls.0` index into them.
    if (typeof next !== 'object' || next === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1] as string] = value;
}

/** Items a user must still answer (required and not given). */
export function missingSetup(
  template: Pick<TemplateFile, 'setupChecklist'>,
  answers: SetupAnswers,
): SetupItem[] {
  return template.setupChecklist.filter(
    (item) => item.required && (answers[item.id] === undefined || answers[item.id] === ''),
  );
}

/**
 * The template's document with the answers applied. Unanswered optional items keep the document's
 * value; an unanswered required item throws a SetupError unless `allowIncomplete` (then the
 * install form's checklist shows what is left to fill in).
 */
export function applySetup(
  template: Pick<TemplateFile, 'document' | 'setupChecklist'>,
  answers: SetupAnswers,
  options: { allowIncomplete?: boolean } = {},
): GridDocument {
  const doc = structuredClone(template.document);
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  for (const item of template.setupChecklist) {
    const value = answers[item.id];
    if (value === undefined || value === '') {
      if (item.required && !options.allowIncomplete)
        throw new SetupError(`Setup: "${item.label}" is required`, item.id);
      continue;
    }
    for (const target of item.targets) {
      const node = byId.get(target.nodeId);
      if (!node)
        throw new SetupError(
          `Setup item "${item.id}" targets the missing node "${target.nodeId}"`,
          item.id,
        );
      setField(node.config, target.field, value);
    }
  }
  return doc;
}
