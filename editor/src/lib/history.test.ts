import { describe, expect, it } from 'vitest';
import { canRedo, canUndo, createHistory, push, redo, replace, undo } from './history.js';

describe('undo/redo history', () => {
  it('undoes and redoes in order', () => {
    let h = createHistory(1);
    h = push(h, 2);
    h = push(h, 3);
    expect(h.present).toBe(3);
    h = undo(h);
    expect(h.present).toBe(2);
    h = undo(h);
    expect(h.present).toBe(1);
    expect(canUndo(h)).toBe(false);
    h = redo(h);
    h = redo(h);
    expect(h.present).toBe(3);
    expect(canRedo(h)).toBe(false);
  });

  it('drops the redo branch on a new edit', () => {
    let h = push(push(createHistory('a'), 'b'), 'c');
    h = undo(h);
    h = push(h, 'd');
    expect(h.present).toBe('d');
    expect(canRedo(h)).toBe(false);
    expect(undo(h).present).toBe('b');
  });

  it('ignores identical snapshots and caps the past', () => {
    let h = createHistory({ v: 0 });
    h = push(h, { v: 0 }, (a, b) => a.v === b.v);
    expect(canUndo(h)).toBe(false);
    for (let i = 1; i <= 10; i++) h = push(h, { v: i }, undefined, 5);
    expect(h.past.length).toBe(5);
    expect(h.past[0]!.v).toBe(5);
  });

  it('replace changes the present without an undo step', () => {
    const h = replace(push(createHistory(1), 2), 3);
    expect(h.present).toBe(3);
    expect(undo(h).present).toBe(1);
  });

  it('undo/redo on empty stacks are no-ops', () => {
    const h = createHistory(1);
    expect(undo(h)).toBe(h);
    expect(redo(h)).toBe(h);
  });
});
