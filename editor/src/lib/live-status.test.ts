import { describe, expect, it } from 'vitest';
import type { RuntimeEvent } from '@gridflow/runtime/engine';
import { initialLiveState, liveReducer, progress, takenEdgeIds, type LiveState } from './live-status.js';

const base = { executionId: 'x1', gridId: 'g', workspaceId: 'w' };
let seq = 0;
const step = (nodeId: string, status: 'running' | 'completed' | 'failed' | 'waiting' | 'skipped' | 'pending', extra: Partial<RuntimeEvent> = {}): RuntimeEvent =>
  ({ type: 'step', seq: ++seq, ...base, nodeId, itemIndex: null, status, attempt: 1, startedAt: '2026-01-01T00:00:00Z', finishedAt: status === 'running' ? null : '2026-01-01T00:00:01Z', ...extra }) as RuntimeEvent;
const run = (status: 'running' | 'completed' | 'failed'): RuntimeEvent => ({ type: 'run', seq: ++seq, ...base, status, startedAt: '2026-01-01T00:00:00Z', finishedAt: null });

function fold(events: RuntimeEvent[], from: LiveState = liveReducer(initialLiveState, { type: 'reset', executionId: 'x1' })) {
  return events.reduce((s, event) => liveReducer(s, { type: 'event', event }), from);
}

describe('live-status reducer', () => {
  it('turns step events into node statuses', () => {
    seq = 0;
    const s = fold([run('running'), step('a', 'running'), step('a', 'completed', { outputPreview: { text: 'hi' } }), step('b', 'running')]);
    expect(s.runStatus).toBe('running');
    expect(s.nodes.a).toMatchObject({ status: 'completed', output: { text: 'hi' } });
    expect(s.nodes.b!.status).toBe('running');
  });

  it('ignores duplicate or stale events (seq) and other executions', () => {
    seq = 0;
    const e1 = step('a', 'completed');
    const s = fold([e1]);
    const stale = { ...step('a', 'running'), seq: e1.seq } as RuntimeEvent;
    expect(liveReducer(s, { type: 'event', event: stale })).toBe(s);
    const other = { ...step('a', 'failed'), executionId: 'other' } as RuntimeEvent;
    expect(liveReducer(s, { type: 'event', event: other })).toBe(s);
  });

  it('aggregates for-each items: running wins, then failed, all completed → completed', () => {
    seq = 0;
    let s = fold([step('f', 'running', { itemIndex: 0 }), step('f', 'completed', { itemIndex: 1 })]);
    expect(s.nodes.f!.status).toBe('running');
    s = fold([step('f', 'completed', { itemIndex: 0 })], s);
    expect(s.nodes.f!.status).toBe('completed');
    s = fold([step('f', 'failed', { itemIndex: 2 })], s);
    expect(s.nodes.f!.status).toBe('failed');
  });

  it('applies a snapshot, then only newer events', () => {
    const snap = liveReducer(initialLiveState, {
      type: 'snapshot',
      execution: {
        id: 'x1', gridId: 'g', gridVersion: 1, status: 'waiting', triggerType: 'manual', startedAt: null, finishedAt: null, createdAt: '', error: null, lastSeq: 10,
        steps: [{ id: 's1', nodeId: 'a', itemIndex: null, status: 'waiting', attempt: 1, input: {}, output: null, error: null, startedAt: null, finishedAt: null }],
      },
    });
    expect(snap.nodes.a!.status).toBe('waiting');
    const old = { ...step('a', 'running'), seq: 9 } as RuntimeEvent;
    expect(liveReducer(snap, { type: 'event', event: old })).toBe(snap);
    const next = liveReducer(snap, { type: 'event', event: { ...step('a', 'completed'), seq: 11 } as RuntimeEvent });
    expect(next.nodes.a!.status).toBe('completed');
  });

  it('computes progress and the edges along the path taken', () => {
    seq = 0;
    const s = fold([step('t', 'completed'), step('g', 'completed', { ports: ['pass'] }), step('x', 'skipped'), run('completed')]);
    const edges = [
      { id: 'e1', source: 't', sourceHandle: 'out', target: 'g' },
      { id: 'e2', source: 'g', sourceHandle: 'pass', target: 'p' },
      { id: 'e3', source: 'g', sourceHandle: 'fail', target: 'x' },
      { id: 'e4', source: 'g', sourceHandle: 'error', target: 'n' },
    ];
    expect([...takenEdgeIds(s, edges)].sort()).toEqual(['e1', 'e2']);
    expect(progress(s, 4)).toBe(1);
    expect(progress(fold([step('a', 'completed')]), 4)).toBe(0.25);
  });

  it('follows error edges from a failed node', () => {
    seq = 0;
    const s = fold([step('p', 'failed', { error: { message: 'boom' } as never })]);
    expect(s.nodes.p!.error?.message).toBe('boom');
    expect([...takenEdgeIds(s, [{ id: 'e', source: 'p', sourceHandle: 'error', target: 'n' }, { id: 'f', source: 'p', sourceHandle: 'out', target: 'm' }])]).toEqual(['e']);
  });
});
