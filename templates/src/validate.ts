/**
 * Validates a template against the node schemas: the runtime's `validateGrid` (document schema,
 * node configs, ports, cycles, trigger, for-each bodies) plus template rules (setup targets exist,
 * nodes pinned to the current type versions). Pure.
 */
import { z } from 'zod';
import {
  validateGrid,
  type Problem,
  type ValidatableNodeType,
  type ValidationRegistry,
} from '@gridflow/runtime/validate';
import type { GridDocument } from '@gridflow/runtime/document';
import type { PortDefinition } from '@gridflow/runtime/node-type';
import type { TemplateFile } from './template-schema.js';

export interface TemplateProblem {
  slug: string;
  nodeId?: string;
  edgeId?: string;
  field?: string;
  message: string;
}

/** A registry type that may compute ports from a node's config (branch routes). */
export interface TemplateNodeType extends ValidatableNodeType {
  outputsFor?(config: never): PortDefinition[];
}

export interface TemplateRegistry {
  get(type: string): TemplateNodeType | undefined;
}

/**
 * A registry view for one document in which a type with `outputsFor` lists the ports of all its
 * nodes in this document, so edges from config-defined ports (a branch's routes) are accepted by
 * port checks that only look at a type's `outputs`.
 */
export function registryForDocument(
  doc: Pick<GridDocument, 'nodes'>,
  registry: TemplateRegistry,
): ValidationRegistry {
  const cache = new Map<string, ValidatableNodeType | undefined>();
  return {
    get(type) {
      if (cache.has(type)) return cache.get(type);
      const t = registry.get(type);
      let view: ValidatableNodeType | undefined = t;
      if (t?.outputsFor) {
        const ports = new Map<string, { name: string }>(t.outputs.map((p) => [p.name, p]));
        for (const n of doc.nodes) {
          if (n.type !== type) continue;
          const parsed = t.configSchema.safeParse(n.config);
          try {
            for (const p of t.outputsFor((parsed.success ? parsed.data : n.config) as never))
              ports.set(p.name, p);
          } catch {
            /* a broken config is reported by config validation */
          }
        }
        view = { ...t, outputs: [...ports.values()] };
      }
      cache.set(type, view);
      return view;
    },
  };
}

const keysCache = new WeakMap<object, Set<string> | null>();

/** Top-level setting names of a node type (from its JSON Schema, through unions); null if unknown. */
function configKeys(type: TemplateNodeType | undefined): Set<string> | null {
  if (!type) return null;
  const cached = keysCache.get(type.configSchema);
  if (cached !== undefined) return cached;
  let keys: Set<string> | null = null;
  try {
    const schema = z.toJSONSchema(type.configSchema, {
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    keys = new Set<string>();
    const collect = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      if (n.properties && typeof n.properties === 'object')
        for (const k of Object.keys(n.properties)) keys!.add(k);
      for (const list of [n.oneOf, n.anyOf, n.allOf])
        if (Array.isArray(list)) list.forEach(collect);
    };
    collect(schema);
  } catch {
    keys = null;
  }
  keysCache.set(type.configSchema, keys);
  return keys;
}

function getField(config: Record<string, unknown>, field: string): unknown {
  let cur: unknown = config;
  for (const key of field.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function validateTemplate(
  template: Pick<TemplateFile, 'slug' | 'document' | 'setupChecklist'>,
  registry: TemplateRegistry,
): { ok: boolean; errors: TemplateProblem[]; warnings: TemplateProblem[] } {
  const of = (p: Problem): TemplateProblem => ({
    slug: template.slug,
    message: p.message,
    ...(p.nodeId ? { nodeId: p.nodeId } : {}),
    ...(p.edgeId ? { edgeId: p.edgeId } : {}),
    ...(p.field ? { field: p.field } : {}),
  });
  const result = validateGrid(template.document, registryForDocument(template.document, registry));
  const errors = result.errors.map(of);
  const warnings = result.warnings.map(of);

  const byId = new Map(template.document.nodes.map((n) => [n.id, n]));
  for (const n of template.document.nodes) {
    const t = registry.get(n.type);
    if (t && n.typeVersion !== t.version) {
      errors.push({
        slug: template.slug,
        nodeId: n.id,
        message: `Node "${n.name}" pins version ${n.typeVersion} of "${n.type}"; templates ship the current version ${t.version}.`,
      });
    }
  }
  for (const n of template.document.nodes) {
    const responseNodeId = n.type === 'trigger' ? n.config.responseNodeId : undefined;
    if (
      typeof responseNodeId === 'string' &&
      n.config.responseMode === 'onComplete' &&
      !byId.has(responseNodeId)
    ) {
      errors.push({
        slug: template.slug,
        nodeId: n.id,
        field: 'config.responseNodeId',
        message: `The webhook answers with the output of node "${responseNodeId}", which is not in the grid.`,
      });
    }
  }
  for (const item of template.setupChecklist) {
    for (const target of item.targets) {
      const node = byId.get(target.nodeId);
      if (!node) {
        errors.push({
          slug: template.slug,
          message: `Setup item "${item.id}" targets the missing node "${target.nodeId}".`,
        });
        continue;
      }
      const known = configKeys(registry.get(node.type));
      const key = target.field.split('.')[0] ?? '';
      if (getField(node.config, target.field) === undefined && known && !known.has(key)) {
        errors.push({
          slug: template.slug,
          nodeId: node.id,
          field: `config.${target.field}`,
          message: `Setup item "${item.id}" targets "${target.field}" of node "${node.name}", which is not a setting of "${node.type}".`,
        });
      }
    }
  }
  return { ok: errors.length === 0, errors, warnings };
}
