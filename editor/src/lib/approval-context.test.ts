import { describe, expect, it } from 'vitest';
import { approvalContextFrom } from './approval-context.js';
import type { Execution } from '../api/types.js';

const node = (id: string, type: string, config: Record<string, unknown> = {}) => ({ id, name: id, type, typeVersion: 1, position: { x: 0, y: 0 }, config });
const edge = (source: string, target: string) => ({ id: `${source}-${target}`, source, sourceHandle: 'out', target, targetHandle: 'in', kind: 'default' as const });
const step = (nodeId: string, output: unknown) => ({ id: nodeId, nodeId, itemIndex: null, status: 'completed' as const, attempt: 1, input: null, output, error: null, startedAt: null, finishedAt: null, ports: null });

describe('approval context from the run', () => {
  it('takes platform, score, pass and violations from the nearest upstream brand-guard step', () => {
    const exec = {
      document: { nodes: [node('t', 'trigger'), node('g', 'generate', { platform: 'x' }), node('bg', 'brand-guard', { platform: 'linkedin' }), node('ap', 'approval'), node('other', 'brand-guard')], edges: [edge('t', 'g'), edge('g', 'bg'), edge('bg', 'ap')] },
      steps: [step('g', { text: 'hi' }), step('bg', { platform: 'linkedin', score: 82, passed: true, violations: [{ rule: 'hashtags', severity: 'warning', message: 'Too many hashtags', penalty: 5 }] }), step('other', { score: 1 })],
    } as unknown as Execution;
    expect(approvalContextFrom(exec, 'ap')).toEqual({
      platform: 'linkedin',
      guard: { score: 82, passed: true, violations: [{ rule: 'hashtags', severity: 'warning', message: 'Too many hashtags' }] },
    });
  });

  it('falls back to an upstream config platform and no guard when there is no brand-guard step', () => {
    const exec = { document: { nodes: [node('g', 'generate', { platform: 'facebook' }), node('ap', 'approval')], edges: [edge('g', 'ap')] }, steps: [] } as unknown as Execution;
    expect(approvalContextFrom(exec, 'ap')).toEqual({ platform: 'facebook', guard: null });
    expect(approvalContextFrom({ document: null, steps: [] }, 'ap')).toEqual({ platform: null, guard: null });
  });
});
