/**
 * JSON Schema → form fields, and client-side validation of a config against the schema (the
 * server re-validates with the node's zod schema; its messages win). Pure, so it is unit-tested.
 */
import type { JsonSchema } from '../api/types.js';
import { templateError } from './template.js';

export type FieldKind =
  | 'text'
  | 'textarea'
  | 'expression'
  | 'code'
  | 'secret'
  | 'number'
  | 'integer'
  | 'select'
  | 'toggle'
  | 'list'
  | 'objectList'
  | 'keyValue'
  | 'object'
  | 'json';

export interface Field {
  key: string;
  path: string;
  label: string;
  description?: string;
  kind: FieldKind;
  required: boolean;
  schema: JsonSchema;
  options?: { value: unknown; label: string }[];
  /** Element schema for lists. */
  item?: JsonSchema;
  nullable: boolean;
  /** Set on the synthetic select that picks a variant of a discriminated union. */
  discriminator?: { variants: Variant[] };
}

export interface Variant {
  value: unknown;
  label: string;
  schema: JsonSchema;
}

/** A discriminated union (zod `discriminatedUnion` → `oneOf` of objects sharing a `const` property). */
export function unionOf(s: JsonSchema): { key: string; variants: Variant[] } | null {
  const alts = s.oneOf ?? s.anyOf;
  if (!alts || alts.length < 2 || !alts.every((a) => a.type === 'object' && a.properties)) return null;
  const first = alts[0]!.properties!;
  for (const key of Object.keys(first)) {
    if (alts.every((a) => a.properties?.[key] && 'const' in a.properties[key]!)) {
      return {
        key,
        variants: alts.map((a) => ({ value: a.properties![key]!.const, label: a.properties![key]!.title ?? humanize(String(a.properties![key]!.const)), schema: a })),
      };
    }
  }
  return null;
}

/** The object schema that applies to `value`: the matching variant of a union, else `s` itself. */
export function activeSchema(s: JsonSchema, value: unknown): JsonSchema {
  const u = unionOf(s);
  if (!u) return s;
  const cur = value && typeof value === 'object' ? (value as Record<string, unknown>)[u.key] : undefined;
  return (u.variants.find((v) => v.value === cur) ?? u.variants[0]!).schema;
}

function visible(s: JsonSchema, parent: Record<string, unknown>): boolean {
  const when = s['x-gridflow-showWhen'] as Record<string, unknown> | undefined;
  if (!when || typeof when !== 'object') return true;
  return Object.entries(when).every(([k, expected]) => (Array.isArray(expected) ? expected.includes(parent[k]) : parent[k] === expected));
}

/** Strips `anyOf: [X, {type: null}]` wrappers; returns the inner schema and whether null is allowed. */
export function unwrapNullable(s: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const alts = s.anyOf ?? s.oneOf;
  if (alts && alts.length === 2) {
    const nonNull = alts.filter((a) => a.type !== 'null');
    if (nonNull.length === 1) return { schema: { ...nonNull[0], title: s.title ?? nonNull[0]!.title, description: s.description ?? nonNull[0]!.description, default: s.default ?? nonNull[0]!.default }, nullable: true };
  }
  if (Array.isArray(s.type) && s.type.includes('null')) {
    const rest = s.type.filter((t) => t !== 'null');
    return { schema: { ...s, type: rest.length === 1 ? rest[0] : rest }, nullable: true };
  }
  return { schema: s, nullable: false };
}

export function humanize(key: string): string {
  const spaced = key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function enumOptions(s: JsonSchema): { value: unknown; label: string }[] | null {
  if (s.enum) return s.enum.map((v) => ({ value: v, label: String(v) }));
  const alts = s.anyOf ?? s.oneOf;
  if (alts && alts.length > 0 && alts.every((a) => 'const' in a)) return alts.map((a) => ({ value: a.const, label: a.title ?? String(a.const) }));
  return null;
}

export function fieldKind(s: JsonSchema): { kind: FieldKind; options?: { value: unknown; label: string }[] } {
  const widget = s['x-gridflow-widget'];
  if (widget === 'code') return { kind: s['x-gridflow-language'] === 'json' ? 'json' : 'code' };
  if (widget === 'expression') return { kind: 'expression' };
  if (widget === 'textarea') return { kind: 'textarea' };
  if (widget === 'secret') return { kind: 'secret' };
  if (widget === 'keyValue') return { kind: 'keyValue' };
  const opts = enumOptions(s);
  if (opts) return { kind: 'select', options: opts };
  const t = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (t) {
    case 'string':
      if (s.format === 'textarea' || (s.maxLength ?? 0) > 500) return { kind: 'textarea' };
      // Free text accepts {{ }} expressions; identifiers, URLs-by-pattern and dates stay plain inputs.
      if (!s.pattern && !s.format) return { kind: 'expression' };
      return { kind: 'text' };
    case 'integer':
      return { kind: 'integer' };
    case 'number':
      return { kind: 'number' };
    case 'boolean':
      return { kind: 'toggle' };
    case 'array': {
      const item = s.items ? unwrapNullable(s.items).schema : {};
      const it = Array.isArray(item.type) ? item.type[0] : item.type;
      if (it === 'object') return { kind: 'objectList' };
      if (it === 'string' || it === 'number' || it === 'integer' || enumOptions(item)) return { kind: 'list' };
      return { kind: 'json' };
    }
    case 'object':
      if (s.properties && Object.keys(s.properties).length > 0) return { kind: 'object' };
      if (s.additionalProperties && typeof s.additionalProperties === 'object') return { kind: 'keyValue' };
      return { kind: 'json' };
    default:
      if (unionOf(s)) return { kind: 'object' };
      return { kind: 'json' };
  }
}

export function fieldsOf(schema: JsonSchema, parentPath = '', value?: unknown): Field[] {
  const parent = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  const out: Field[] = [];
  const union = unionOf(schema);
  let obj = schema;
  if (union) {
    obj = activeSchema(schema, value);
    const raw = obj.properties![union.key]!;
    out.push({
      key: union.key,
      path: parentPath ? `${parentPath}.${union.key}` : union.key,
      label: raw.title ?? humanize(union.key),
      description: raw.description,
      kind: 'select',
      required: true,
      schema: raw,
      options: union.variants.map((v) => ({ value: v.value, label: v.label })),
      nullable: false,
      discriminator: { variants: union.variants },
    });
  }
  const props = obj.properties ?? {};
  const required = new Set(obj.required ?? []);
  for (const [key, raw] of Object.entries(props)) {
    if (union && key === union.key) continue;
    if (!visible(raw, parent)) continue;
    const { schema: s, nullable } = unwrapNullable(raw);
    const { kind, options } = fieldKind(s);
    out.push({
      key,
      path: parentPath ? `${parentPath}.${key}` : key,
      label: s.title ?? humanize(key),
      description: s.description,
      kind,
      // With zod's "input" JSON Schema, defaulted fields are not required; a default also makes a field optional to the user.
      required: required.has(key) && s.default === undefined && !nullable,
      schema: s,
      options,
      item: s.items ? unwrapNullable(s.items).schema : undefined,
      nullable,
    });
  }
  return out;
}

/** Initial config: each property's default. */
export function defaultsOf(schema: JsonSchema, variant?: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const u = unionOf(schema);
  const seed = u ? { [u.key]: variant ?? u.variants[0]!.value } : {};
  for (const f of fieldsOf(schema, '', seed)) {
    if (f.discriminator) out[f.key] = seed[f.key];
    else if (f.schema.default !== undefined) out[f.key] = structuredClone(f.schema.default);
    else if (f.kind === 'object' && f.required) out[f.key] = defaultsOf(f.schema);
  }
  return out;
}

const isEmpty = (v: unknown) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

function validateValue(s: JsonSchema, v: unknown, path: string, label: string, errors: Record<string, string>) {
  const { kind } = fieldKind(s);
  if (isEmpty(v)) return;
  switch (kind) {
    case 'text':
    case 'textarea':
    case 'expression':
    case 'secret':
    case 'code': {
      if (typeof v !== 'string') {
        errors[path] = `${label} must be text`;
        return;
      }
      if (s.minLength !== undefined && v.length < s.minLength) errors[path] = `${label} must be at least ${s.minLength} characters`;
      else if (s.maxLength !== undefined && v.length > s.maxLength) errors[path] = `${label} must be at most ${s.maxLength} characters`;
      else if (kind !== 'code') {
        const te = templateError(v);
        if (te) errors[path] = te;
        else if (s.pattern && !/\{\{/.test(v) && !new RegExp(s.pattern, 'u').test(v)) errors[path] = `${label} has an invalid format`;
        else if (s.format === 'uri' && !/\{\{/.test(v) && !/^https?:\/\/\S+$/i.test(v)) errors[path] = `${label} must be a URL starting with http:// or https://`;
        else if (s.format === 'email' && !/\{\{/.test(v) && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v)) errors[path] = `${label} must be an email address`;
      }
      return;
    }
    case 'number':
    case 'integer': {
      if (typeof v === 'string' && /\{\{/.test(v)) return;
      const n = typeof v === 'number' ? v : Number.NaN;
      if (!Number.isFinite(n)) errors[path] = `${label} must be a number`;
      else if (kind === 'integer' && !Number.isInteger(n)) errors[path] = `${label} must be a whole number`;
      else if (s.minimum !== undefined && n < s.minimum) errors[path] = `${label} must be at least ${s.minimum}`;
      else if (s.maximum !== undefined && n > s.maximum) errors[path] = `${label} must be at most ${s.maximum}`;
      else if (s.exclusiveMinimum !== undefined && n <= s.exclusiveMinimum) errors[path] = `${label} must be greater than ${s.exclusiveMinimum}`;
      else if (s.exclusiveMaximum !== undefined && n >= s.exclusiveMaximum) errors[path] = `${label} must be less than ${s.exclusiveMaximum}`;
      return;
    }
    case 'select': {
      const opts = fieldKind(s).options ?? [];
      if (!opts.some((o) => o.value === v)) errors[path] = `${label} must be one of: ${opts.map((o) => o.label).join(', ')}`;
      return;
    }
    case 'toggle':
      if (typeof v !== 'boolean') errors[path] = `${label} must be on or off`;
      return;
    case 'list':
    case 'objectList': {
      if (!Array.isArray(v)) {
        errors[path] = `${label} must be a list`;
        return;
      }
      if (s.minItems !== undefined && v.length < s.minItems) errors[path] = `${label} needs at least ${s.minItems} item(s)`;
      else if (s.maxItems !== undefined && v.length > s.maxItems) errors[path] = `${label} allows at most ${s.maxItems} item(s)`;
      const item = s.items ? unwrapNullable(s.items).schema : null;
      if (item) v.forEach((x, i) => (kind === 'objectList' ? validateObject(item, x, `${path}.${i}`, errors) : validateValue(item, x, `${path}.${i}`, `${label} item ${i + 1}`, errors)));
      return;
    }
    case 'object':
      validateObject(s, v, path, errors);
      return;
    case 'keyValue':
      if (Array.isArray(v)) {
        if (v.some((r) => !r || typeof r !== 'object' || String((r as { key?: unknown }).key ?? '').trim() === '')) errors[path] = `${label} has an entry without a name`;
      } else if (typeof v !== 'object') errors[path] = `${label} must be a set of key/value pairs`;
      else if (Object.keys(v as object).some((k) => k.trim() === '')) errors[path] = `${label} has an entry without a key`;
      return;
    case 'json':
      return;
  }
}

function validateObject(schema: JsonSchema, value: unknown, path: string, errors: Record<string, string>) {
  const obj = (value && typeof value === 'object' ? value : {}) as Record<string, unknown>;
  for (const f of fieldsOf(schema, path, obj)) {
    const v = obj[f.key];
    if (f.required && isEmpty(v)) {
      errors[f.path] = `${f.label} is required`;
      continue;
    }
    validateValue(f.schema, v, f.path, f.label, errors);
  }
}

/** Field errors by dotted path (`text`, `headers`, `items.0.url`). Empty object when valid. */
export function validateConfig(schema: JsonSchema, config: Record<string, unknown>): Record<string, string> {
  const errors: Record<string, string> = {};
  validateObject(schema, config, '', errors);
  // validateObject prefixes with '' + '.'; normalise leading dots
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(errors)) out[k.replace(/^\./, '')] = v;
  return out;
}

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split('.').filter(Boolean)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

export function setPath<T extends Record<string, unknown>>(obj: T, path: string, value: unknown): T {
  const parts = path.split('.').filter(Boolean);
  if (parts.length === 0) return obj;
  const [head, ...rest] = parts as [string, ...string[]];
  const cur = (obj ?? {}) as Record<string, unknown>;
  const isIndex = /^\d+$/.test(head);
  const copy: Record<string, unknown> | unknown[] = Array.isArray(cur) ? [...cur] : { ...cur };
  const child = rest.length ? setPath(((cur as Record<string, unknown>)[head] ?? (/^\d+$/.test(rest[0]!) ? [] : {})) as Record<string, unknown>, rest.join('.'), value) : value;
  if (Array.isArray(copy) && isIndex) copy[Number(head)] = child;
  else if (value === undefined && rest.length === 0) delete (copy as Record<string, unknown>)[head];
  else (copy as Record<string, unknown>)[head] = child;
  return copy as T;
}
