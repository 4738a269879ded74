/**
 * Test helper: an `evaluate` with the runtime's documented semantics (a whole `{{ expr }}` yields the
 * raw value, mixed text interpolates, a bare string is one expression), run with `new Function`
 * instead of isolated-vm. Used by runner tests in place of the sandbox; never imported by runners.
 */
import type { Json, NodeContext } from '@gridflow/runtime/node-type';

export interface EvaluateLog {
  calls: Array<{ expression: string; extra?: Record<string, Json> }>;
}

export function fakeEvaluate(scope: Record<string, unknown>, log?: EvaluateLog): NodeContext['evaluate'] {
  const run = (expr: string, vars: Record<string, unknown>): unknown => {
    const names = Object.keys(vars);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const fn = new Function(...names, `"use strict"; return (${expr});`) as (...args: unknown[]) => unknown;
    return fn(...names.map((n) => vars[n]));
  };
  return async (expression, extra) => {
    log?.calls.push(extra ? { expression, extra } : { expression });
    const vars = { ...scope, ...extra };
    const whole = /^\s*\{\{([\s\S]*?)\}\}\s*$/.exec(expression);
    if (whole) return toJson(run(whole[1] ?? '', vars));
    if (expression.includes('{{')) {
      return expression.replace(/\{\{([\s\S]*?)\}\}/g, (_m, e: string) => {
        const v = run(e, vars);
        return typeof v === 'string' ? v : JSON.stringify(v);
      });
    }
    return toJson(run(expression, vars));
  };
}

function toJson(v: unknown): Json {
  return v === undefined ? null : (JSON.parse(JSON.stringify(v)) as Json);
}
