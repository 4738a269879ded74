/**
 * `{{ expression }}` templates in config strings: parsing only, no evaluation. Browser-safe (no Node
 * imports): the editor uses it for highlighting and autocomplete, the runtime for resolving.
 *
 * Grammar: text, then `{{`, then a JavaScript expression, then `}}`. The expression ends at the
 * first `}}` that is outside string literals and not closing a `{` opened inside the expression, so
 * `{{ {a: {b: 1}} }}` and `{{ "}}" }}` work. A `{{` without its `}}` is literal text (flagged
 * `unclosed` so the editor can underline it).
 */

export interface TextSegment {
  type: 'text';
  value: string;
  /** Offsets in the template string: `template.slice(start, end) === value`. */
  start: number;
  end: number;
  /** Text starting with a `{{` that has no matching `}}`. */
  unclosed?: boolean;
}

export interface ExpressionSegment {
  type: 'expression';
  /** The expression between the braces, trimmed. */
  expression: string;
  /** Offsets of the whole `{{ … }}` in the template. */
  start: number;
  end: number;
  /** Offsets of the untrimmed expression text (between `{{` and `}}`). */
  innerStart: number;
  innerEnd: number;
}

export type TemplateSegment = TextSegment | ExpressionSegment;

/** Variables an expression can read. `nodes` is keyed by node id and by node name. */
export const SCOPE_ROOTS = ['trigger', 'nodes', 'item', 'itemIndex', 'run', 'input'] as const;
export type ScopeRoot = (typeof SCOPE_ROOTS)[number];

export function hasTemplate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const open = value.indexOf('{{');
  return open !== -1 && findClose(value, open + 2) !== -1;
}

export function parseTemplate(template: string): TemplateSegment[] {
  const segments: TemplateSegment[] = [];
  let pos = 0;
  let textStart = 0;
  while (pos < template.length) {
    const open = template.indexOf('{{', pos);
    if (open === -1) break;
    const close = findClose(template, open + 2);
    if (close === -1) {
      if (open > textStart) segments.push(text(template, textStart, open));
      segments.push({ ...text(template, open, template.length), unclosed: true });
      return segments;
    }
    if (open > textStart) segments.push(text(template, textStart, open));
    segments.push({
      type: 'expression',
      expression: template.slice(open + 2, close).trim(),
      start: open,
      end: close + 2,
      innerStart: open + 2,
      innerEnd: close,
    });
    pos = close + 2;
    textStart = pos;
  }
  if (textStart < template.length) segments.push(text(template, textStart, template.length));
  return segments;
}

/** The expression when the whole string (ignoring surrounding whitespace) is one `{{ }}`, else null. */
export function singleExpression(template: string): string | null {
  const segments = parseTemplate(template);
  let found: ExpressionSegment | null = null;
  for (const s of segments) {
    if (s.type === 'expression') {
      if (found) return null;
      found = s;
    } else if (s.unclosed || s.value.trim() !== '') {
      return null;
    }
  }
  return found ? found.expression : null;
}

/** The segment containing `offset` (for the editor's autocomplete), or null. */
export function segmentAt(template: string, offset: number): TemplateSegment | null {
  for (const s of parseTemplate(template)) {
    if (offset >= s.start && offset <= s.end) {
      if (s.type === 'expression' && (offset < s.innerStart || offset > s.innerEnd)) continue;
      return s;
    }
  }
  return null;
}

function text(template: string, start: number, end: number): TextSegment {
  return { type: 'text', value: template.slice(start, end), start, end };
}

/** Index of the `}}` closing an expression that starts at `from`, or -1. */
function findClose(s: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < s.length) {
    const c = s[i];
    if (c === '"' || c === "'" || c === '`') {
      const end = skipString(s, i);
      if (end === -1) return -1;
      i = end;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0 && s[i + 1] === '}') return i;
      if (depth > 0) depth--;
    }
    i++;
  }
  return -1;
}

/** Index just after the string literal starting at `i`, or -1 when it is not closed. */
function skipString(s: string, i: number): number {
  const quote = s[i];
  let j = i + 1;
  while (j < s.length) {
    const c = s[j];
    if (c === '\\') {
      j += 2;
      continue;
    }
    if (c === quote) return j + 1;
    // Template literal `${ … }` parts may hold anything but a backtick; good enough for templates.
    j++;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Plain paths: `trigger.body.title`, `nodes["Generate post"].output.text`, `items[0]`.

export type PathKey = string | number;

const IDENT = /^[A-Za-z_$][\w$]*/;

/**
 * Parses a plain property path (identifier, then `.name`, `[0]` or `["key"]` parts) rooted at one of
 * `roots`; null for anything else (calls, operators, optional chaining, computed keys).
 */
export function parsePath(expression: string, roots: readonly string[] = SCOPE_ROOTS): PathKey[] | null {
  const s = expression.trim();
  const head = IDENT.exec(s);
  if (!head || !roots.includes(head[0])) return null;
  const path: PathKey[] = [head[0]];
  let i = head[0].length;
  while (i < s.length) {
    const c = s[i];
    if (c === '.') {
      const m = IDENT.exec(s.slice(i + 1));
      if (!m) return null;
      path.push(m[0]);
      i += 1 + m[0].length;
    } else if (c === '[') {
      const close = s.indexOf(']', i);
      if (close === -1) return null;
      const inner = s.slice(i + 1, close).trim();
      if (/^(0|[1-9]\d{0,8})$/.test(inner)) {
        path.push(Number(inner));
        i = close + 1;
      } else if (inner[0] === '"' || inner[0] === "'") {
        const end = skipString(s, s.indexOf(inner[0], i));
        if (end === -1) return null;
        const literal = s.slice(s.indexOf(inner[0], i), end);
        const key = parseStringLiteral(literal);
        if (key === null) return null;
        const after = s.slice(end).match(/^\s*\]/);
        if (!after) return null;
        path.push(key);
        i = end + after[0].length;
      } else {
        return null;
      }
    } else {
      return null;
    }
  }
  return path;
}

export function isPlainPath(expression: string, roots: readonly string[] = SCOPE_ROOTS): boolean {
  return parsePath(expression, roots) !== null;
}

function parseStringLiteral(literal: string): string | null {
  if (literal.length < 2) return null;
  const quote = literal[0];
  let body = literal.slice(1, -1);
  if (quote === "'") body = body.replace(/\\'/g, "'").replace(/"/g, '\\"');
  try {
    const v: unknown = JSON.parse(`"${body}"`);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Node references.

export interface NodeReferences {
  /** Node ids or names read statically (`nodes.gen1`, `nodes["Generate post"]`), in order of first use. */
  names: string[];
  /** True when `nodes` is used in a way that can read any node (`nodes[x]`, `Object.keys(nodes)`). */
  dynamic: boolean;
}

/** Node ids/names an expression (without braces) reads statically. */
export function referencedNodes(expression: string): string[] {
  return nodeReferences(expression).names;
}

export function nodeReferences(expression: string): NodeReferences {
  const names: string[] = [];
  let dynamic = false;
  const s = expression;
  let i = 0;
  let prev = ''; // previous significant character
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"' || c === "'" || c === '`') {
      const end = skipString(s, i);
      if (end === -1) break;
      i = end;
      prev = c;
      continue;
    }
    const id = /^[A-Za-z_$][\w$]*/.exec(s.slice(i));
    if (id) {
      const word = id[0];
      i += word.length;
      if (word === 'nodes' && prev !== '.') {
        const rest = s.slice(i);
        const dot = /^\s*(?:\?\.|\.)\s*([A-Za-z_$][\w$]*)/.exec(rest);
        const bracket = /^\s*(?:\?\.)?\s*\[\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\]/.exec(rest);
        if (dot) {
          add(names, dot[1]!);
          i += dot[0].length;
          prev = 'x';
          continue;
        }
        if (bracket) {
          const key = parseStringLiteral(bracket[1]!);
          if (key === null) dynamic = true;
          else add(names, key);
          i += bracket[0].length;
          prev = ']';
          continue;
        }
        dynamic = true;
      }
      prev = 'x';
      continue;
    }
    if (!/\s/.test(c)) prev = c;
    i++;
  }
  return { names, dynamic };
}

function add(list: string[], name: string): void {
  if (!list.includes(name)) list.push(name);
}
