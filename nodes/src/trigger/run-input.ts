/**
 * Manual-run input fields: the editor renders a run form from them, and the trigger applies them to
 * the submitted payload (defaults, required fields, type coercion of form text). Pure.
 */
import type { Json } from '@gridflow/runtime/node-type';

export type InputFieldType = 'string' | 'text' | 'number' | 'boolean' | 'json';

export interface InputField {
  name: string;
  type: InputFieldType;
  required: boolean;
  default?: Json | undefined;
  label?: string | undefined;
}

export class RunInputError extends Error {
  override name = 'RunInputError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

function coerce(field: InputField, value: Json): Json {
  const label = field.label ?? field.name;
  switch (field.type) {
    case 'string':
    case 'text':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new RunInputError(`Run input "${label}" must be text`, field.name);
    case 'number': {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : NaN;
      if (!Number.isFinite(n))
        throw new RunInputError(
          `Run input "${label}" must be a number, got ${JSON.stringify(value)}`,
          field.name,
        );
      return n;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true') return true;
      if (value === 'false') return false;
      throw new RunInputError(
        `Run input "${label}" must be true or false, got ${JSON.stringify(value)}`,
        field.name,
      );
    case 'json':
      if (typeof value === 'string') {
        try {
          return JSON.parse(value) as Json;
        } catch {
          return value; // plain text is valid JSON data too
        }
      }
      return value;
    default: {
      const never: never = field.type;
      throw new Error(`unknown field type ${String(never)}`);
    }
  }
}

/**
 * Applies the field definitions to a payload: defaults fill missing fields, required fields must be
 * present and non-empty, values are coerced to their type. Extra payload keys are kept.
 */
export function applyInputFields(fields: InputField[], payload: Json): Json {
  if (fields.length === 0) return payload;
  if (payload !== null && (typeof payload !== 'object' || Array.isArray(payload))) {
    throw new RunInputError('The run input must be an object with the form fields', '');
  }
  const out: Record<string, Json> = { ...(payload ?? {}) };
  for (const field of fields) {
    const present =
      Object.prototype.hasOwnProperty.call(out, field.name) &&
      out[field.name] !== null &&
      out[field.name] !== '';
    if (!present) {
      if (field.default !== undefined) {
        out[field.name] = field.default;
        continue;
      }
      if (field.required)
        throw new RunInputError(`Run input "${field.label ?? field.name}" is required`, field.name);
      continue;
    }
    out[field.name] = coerce(field, out[field.name] as Json);
  }
  return out;
}
