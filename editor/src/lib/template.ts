/**
 * `{{ }}` expressions in the editor (highlighting, validation, field insertion). Parsing is the
 * runtime's (`@gridflow/runtime/template`), so the editor and the runtime agree on what an
 * expression is; this module only adapts it to what the form needs.
 */
import { parseTemplate as parseRuntime } from '@gridflow/runtime/template';

export type TemplateSegment =
  | { kind: 'text'; value: string; start: number; end: number }
  | { kind: 'expr'; value: string; start: number; end: number }
  | { kind: 'unclosed'; value: string; start: number; end: number };

export function parseTemplate(source: string): TemplateSegment[] {
  return parseRuntime(source).map((s) =>
    s.type === 'expression'
      ? { kind: 'expr' as const, value: s.expression, start: s.start, end: s.end }
      : { kind: s.unclosed ? ('unclosed' as const) : ('text' as const), value: s.value, start: s.start, end: s.end },
  );
}

export function hasExpression(source: string): boolean {
  return parseTemplate(source).some((s) => s.kind !== 'text');
}

/** A message for the first syntax problem, or null. */
export function templateError(source: string): string | null {
  for (const seg of parseTemplate(source)) {
    if (seg.kind === 'unclosed') return 'An expression opened with {{ is not closed with }}';
    if (seg.kind === 'expr' && seg.value === '') return 'An expression {{ }} is empty';
  }
  return null;
}

/** Reference to a node's output field, e.g. `{{ nodes["Generate post"].output.text }}`. */
export function nodeFieldExpression(nodeName: string, field: string): string {
  const path = field
    .split('.')
    .filter(Boolean)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`))
    .join('');
  return `{{ nodes[${JSON.stringify(nodeName)}].output${path} }}`;
}

/** Inserts `text` at `[start, end)` of `value`; returns the new value and caret position. */
export function insertAt(value: string, start: number, end: number, text: string): { value: string; caret: number } {
  return { value: value.slice(0, start) + text + value.slice(end), caret: start + text.length };
}
