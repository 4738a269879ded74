/**
 * Pure comparison operators of the branch node. Values come from JSON (the step data) and from the
 * settings form (where numbers and booleans are often typed as text), so comparisons coerce numeric
 * and boolean strings the way a user expects: `85 gte "80"` is true.
 */

export const OPERATORS = [
  'eq',
  'neq',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'notContains',
  'startsWith',
  'endsWith',
  'matches',
  'exists',
  'notExists',
  'isEmpty',
  'isNotEmpty',
] as const;

export type Operator = (typeof OPERATORS)[number];

/** Operators that ignore the right-hand value. */
export const UNARY_OPERATORS: ReadonlySet<Operator> = new Set([
  'exists',
  'notExists',
  'isEmpty',
  'isNotEmpty',
]);

export class InvalidPatternError extends Error {
  override name = 'InvalidPatternError';
}

export interface CompareOptions {
  /** String comparisons (eq, contains, startsWith, endsWith, matches) ignore case when false. Default true. */
  caseSensitive?: boolean;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

function asTime(v: unknown): number | undefined {
  if (typeof v !== 'string' || !ISO_DATE.test(v.trim())) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

function asBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  return undefined;
}

function text(v: unknown, caseSensitive: boolean): string | undefined {
  if (typeof v === 'string') return caseSensitive ? v : v.toLowerCase();
  if (typeof v === 'number' || typeof v === 'boolean')
    return caseSensitive ? String(v) : String(v).toLowerCase();
  return undefined;
}

/** Equality with form-friendly coercion; objects and arrays compare structurally. */
export function looselyEqual(a: unknown, b: unknown, caseSensitive = true): boolean {
  if (a === b) return true;
  if (a === undefined || a === null || b === undefined || b === null)
    return (a ?? null) === (b ?? null);
  const na = asNumber(a);
  const nb = asNumber(b);
  if (na !== undefined && nb !== undefined && (typeof a === 'number' || typeof b === 'number'))
    return na === nb;
  const ba = asBoolean(a);
  const bb = asBoolean(b);
  if (ba !== undefined && bb !== undefined && (typeof a === 'boolean' || typeof b === 'boolean'))
    return ba === bb;
  if (typeof a === 'object' || typeof b === 'object')
    return stableStringify(a) === stableStringify(b);
  const ta = text(a, caseSensitive);
  const tb = text(b, caseSensitive);
  return ta !== undefined && ta === tb;
}

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableStringify(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'undefined';
}

/** -1 / 0 / 1, or undefined when the values are not comparable (then every ordering operator is false). */
export function compareOrdered(a: unknown, b: unknown): number | undefined {
  const na = asNumber(a);
  const nb = asNumber(b);
  if (na !== undefined && nb !== undefined) return Math.sign(na - nb);
  const ta = asTime(a);
  const tb = asTime(b);
  if (ta !== undefined && tb !== undefined) return Math.sign(ta - tb);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

export function isEmptyValue(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'string') return v.trim() === '';
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

/** Parses `/pattern/flags` or a bare pattern. Throws InvalidPatternError with a readable reason. */
export function toRegExp(pattern: unknown, caseSensitive: boolean): RegExp {
  if (typeof pattern !== 'string')
    throw new InvalidPatternError(`the pattern must be text, got ${JSON.stringify(pattern)}`);
  const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(pattern);
  let source = pattern;
  let flags = '';
  if (literal) {
    source = literal[1] ?? '';
    flags = (literal[2] ?? '').replace(/[gy]/g, ''); // stateful flags make .test() order-dependent
  }
  if (!caseSensitive && !flags.includes('i')) flags += 'i';
  try {
    return new RegExp(source, flags);
  } catch (err) {
    throw new InvalidPatternError(
      `"${pattern}" is not a valid regular expression: ${(err as Error).message}`,
    );
  }
}

function contains(haystack: unknown, needle: unknown, caseSensitive: boolean): boolean {
  if (Array.isArray(haystack)) return haystack.some((x) => looselyEqual(x, needle, caseSensitive));
  if (haystack && typeof haystack === 'object') {
    return typeof needle === 'string' && Object.prototype.hasOwnProperty.call(haystack, needle);
  }
  const h = text(haystack, caseSensitive);
  const n = text(needle, caseSensitive);
  return h !== undefined && n !== undefined && h.includes(n);
}

/** Applies `operator` to the left (field) and right (configured) values. */
export function compare(
  left: unknown,
  operator: Operator,
  right: unknown,
  options: CompareOptions = {},
): boolean {
  const cs = options.caseSensitive ?? true;
  switch (operator) {
    case 'eq':
      return looselyEqual(left, right, cs);
    case 'neq':
      return !looselyEqual(left, right, cs);
    case 'gt': {
      const c = compareOrdered(left, right);
      return c !== undefined && c > 0;
    }
    case 'gte': {
      const c = compareOrdered(left, right);
      return c !== undefined && c >= 0;
    }
    case 'lt': {
      const c = compareOrdered(left, right);
      return c !== undefined && c < 0;
    }
    case 'lte': {
      const c = compareOrdered(left, right);
      return c !== undefined && c <= 0;
    }
    case 'contains':
      return contains(left, right, cs);
    case 'notContains':
      return !contains(left, right, cs);
    case 'startsWith': {
      const l = text(left, cs);
      const r = text(right, cs);
      return l !== undefined && r !== undefined && l.startsWith(r);
    }
    case 'endsWith': {
      const l = text(left, cs);
      const r = text(right, cs);
      return l !== undefined && r !== undefined && l.endsWith(r);
    }
    case 'matches': {
      const re = toRegExp(right, cs);
      const l = text(left, true);
      return l !== undefined && re.test(l);
    }
    case 'exists':
      return left !== undefined && left !== null;
    case 'notExists':
      return left === undefined || left === null;
    case 'isEmpty':
      return isEmptyValue(left);
    case 'isNotEmpty':
      return !isEmptyValue(left);
    default: {
      const never: never = operator;
      throw new Error(`unknown operator ${String(never)}`);
    }
  }
}

export type Combinator = 'and' | 'or';

/** Combines already-evaluated results; an empty group is false (it matches nothing). */
export function combine(combinator: Combinator, results: boolean[]): boolean {
  if (results.length === 0) return false;
  return combinator === 'and' ? results.every(Boolean) : results.some(Boolean);
}
