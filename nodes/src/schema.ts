/**
 * Node type metadata as plain JSON: what `GET /api/node-types` serves and the editor renders palettes
 * and settings forms from. Config schemas are converted from zod 4 with `z.toJSONSchema` (input side:
 * defaults are not required fields) and carry `x-gridflow-*` hints:
 * - `x-gridflow-widget`: 'code' | 'expression' | 'keyValue' | 'textarea' | 'secret' (how to edit a field;
 *   'secret' fields hold ciphertext: the server encrypts what the user typed before saving)
 * - `x-gridflow-language`: language of a 'code' widget ('javascript' | 'json')
 * - `x-gridflow-showWhen`: `{ field: value }` — show the field only when a sibling has that value
 * - `x-gridflow-ports`: on an array field whose elements become output ports (see `dynamicOutputs`)
 * Browser-safe: imports only zod and types.
 */
import { z } from 'zod';
import type { AnyNodeType, NodeCategory, PortDefinition } from '@gridflow/runtime/node-type';

export type Widget = 'code' | 'expression' | 'keyValue' | 'textarea' | 'secret';

/** JSON Schema (draft 2020-12) object, as produced by `z.toJSONSchema`. */
export type JsonSchema = { [key: string]: unknown };

/** How output ports follow the config: one port per element of `config[field]`, then `append`. */
export interface DynamicOutputs {
  field: string;
  /** Key of each element holding the port name. */
  itemName: string;
  /** Key of each element holding the label (falls back to the name). */
  itemLabel: string;
  /** Static ports listed after the dynamic ones, e.g. `default`. */
  append: string[];
}

export interface NodeTypeDescription {
  type: string;
  version: number;
  label: string;
  description: string;
  icon: string;
  category: NodeCategory;
  isTrigger: boolean;
  inputs: PortDefinition[];
  /** Static output ports (for a node with `dynamicOutputs`: the ports of an empty config). */
  outputs: PortDefinition[];
  /** Set when output ports depend on the config (branch routes); null otherwise. */
  dynamicOutputs: DynamicOutputs | null;
  /** Top-level config fields whose `{{ }}` are not resolved before the runner (code, per-item expressions). */
  rawFields: string[];
  /** Config paths (dotted, through unions) of secret fields: the server encrypts them on save. */
  secretFields: string[];
  /** JSON Schema of the config. */
  configSchema: JsonSchema;
  /** A valid config of a newly added node (defaults applied), or null when the user must fill something in. */
  defaultConfig: Record<string, unknown> | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Converts a config schema to JSON Schema, adding widget hints for raw fields that have none. */
export function configJsonSchema(def: Pick<AnyNodeType, 'configSchema' | 'rawFields'>): JsonSchema {
  const schema = z.toJSONSchema(def.configSchema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  const props = schema.properties;
  if (isObject(props)) {
    for (const field of def.rawFields ?? []) {
      const prop = props[field];
      if (isObject(prop) && prop['x-gridflow-widget'] === undefined && prop.type === 'string') {
        prop['x-gridflow-widget'] = field === 'code' ? 'code' : 'expression';
      }
    }
  }
  return schema;
}

/** Dotted paths of fields marked `x-gridflow-widget: 'secret'` (array elements as `[]`). */
export function collectSecretPaths(schema: JsonSchema): string[] {
  const out = new Set<string>();
  const walk = (node: unknown, path: string): void => {
    if (!isObject(node)) return;
    if (node['x-gridflow-widget'] === 'secret') out.add(path);
    if (isObject(node.properties)) {
      for (const [k, v] of Object.entries(node.properties)) walk(v, path ? `${path}.${k}` : k);
    }
    if (node.items) walk(node.items, `${path}[]`);
    for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
      const list = node[key];
      if (Array.isArray(list)) for (const branch of list) walk(branch, path);
    }
  };
  walk(schema, '');
  return [...out].sort();
}

function dynamicOutputsOf(def: AnyNodeType, schema: JsonSchema): DynamicOutputs | null {
  if (!def.outputsFor) return null;
  const props = schema.properties;
  if (isObject(props)) {
    for (const [field, prop] of Object.entries(props)) {
      const hint = isObject(prop) ? prop['x-gridflow-ports'] : undefined;
      if (isObject(hint)) {
        return {
          field,
          itemName: typeof hint.itemName === 'string' ? hint.itemName : 'name',
          itemLabel: typeof hint.itemLabel === 'string' ? hint.itemLabel : 'label',
          append: Array.isArray(hint.append)
            ? hint.append.filter((x): x is string => typeof x === 'string')
            : [],
        };
      }
    }
  }
  // outputsFor without a declarative hint: the editor must ask the server for a node's ports.
  return {
    field: '',
    itemName: 'name',
    itemLabel: 'label',
    append: def.outputs.map((p) => p.name),
  };
}

/**
 * The config a new node gets: the schema's defaults, or for a union (e.g. the trigger's modes) the
 * defaults of its first option.
 */
export function defaultConfigOf(
  def: Pick<AnyNodeType, 'configSchema'>,
  schema: JsonSchema,
): Record<string, unknown> | null {
  const attempt = (value: unknown): Record<string, unknown> | null => {
    const r = def.configSchema.safeParse(value);
    return r.success && isObject(r.data) ? r.data : null;
  };
  const plain = attempt({});
  if (plain) return plain;
  const first = Array.isArray(schema.oneOf) ? schema.oneOf[0] : undefined;
  if (isObject(first) && isObject(first.properties)) {
    for (const [key, prop] of Object.entries(first.properties)) {
      if (isObject(prop) && prop.const !== undefined) {
        const withKind = attempt({ [key]: prop.const });
        if (withKind) return withKind;
      }
    }
  }
  return null;
}

export function describeNodeType(def: AnyNodeType): NodeTypeDescription {
  const configSchema = configJsonSchema(def);
  const outputs = def.outputsFor ? safeOutputsFor(def) : def.outputs;
  return {
    type: def.type,
    version: def.version,
    label: def.label,
    description: def.description,
    icon: def.icon,
    category: def.category,
    isTrigger: def.isTrigger === true,
    inputs: def.inputs.map((p) => ({ ...p })),
    outputs: outputs.map((p) => ({ ...p })),
    dynamicOutputs: dynamicOutputsOf(def, configSchema),
    rawFields: [...(def.rawFields ?? [])],
    secretFields: collectSecretPaths(configSchema),
    configSchema,
    defaultConfig: defaultConfigOf(def, configSchema),
  };
}

function safeOutputsFor(def: AnyNodeType): PortDefinition[] {
  try {
    return def.outputsFor?.({} as never) ?? def.outputs;
  } catch {
    return def.outputs;
  }
}

/** Every registered node type, in registry order. */
export function describeNodeTypes(registry: { list(): AnyNodeType[] }): NodeTypeDescription[] {
  return registry.list().map(describeNodeType);
}

/**
 * Output ports of a node from its description and config: the editor's counterpart of
 * `NodeTypeDefinition.outputsFor`, for when only the JSON description is at hand.
 */
export function outputsFromDescription(
  desc: Pick<NodeTypeDescription, 'outputs' | 'dynamicOutputs'>,
  config: unknown,
): PortDefinition[] {
  const dyn = desc.dynamicOutputs;
  if (!dyn || !dyn.field) return desc.outputs;
  const list =
    isObject(config) && Array.isArray(config[dyn.field]) ? (config[dyn.field] as unknown[]) : [];
  const ports: PortDefinition[] = [];
  const seen = new Set<string>(dyn.append);
  for (const el of list) {
    if (!isObject(el)) continue;
    const name = el[dyn.itemName];
    if (typeof name !== 'string' || name === '' || seen.has(name) || name === 'error') continue;
    seen.add(name);
    const label = el[dyn.itemLabel];
    ports.push({ name, label: typeof label === 'string' && label ? label : name });
  }
  for (const name of dyn.append)
    ports.push(desc.outputs.find((p) => p.name === name) ?? { name, label: name });
  return ports;
}
