import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Autosaver, saveReducer, initialSaveState, type SaveState } from './autosave.js';

class Conflict extends Error {
  status = 409;
}

/** A fake draft store with optimistic concurrency, like the server's PUT /api/grids/:id. */
function fakeServer() {
  const server = { version: 1, doc: 'v1', writes: [] as string[] };
  const save = vi.fn(async (doc: string, expected: number) => {
    await Promise.resolve();
    if (expected !== server.version) throw new Conflict('stale');
    server.version++;
    server.doc = doc;
    server.writes.push(doc);
    return { draftVersion: server.version };
  });
  return { server, save };
}

describe('autosave', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('debounces edits into one save and reports saving → saved', async () => {
    const { server, save } = fakeServer();
    const states: SaveState['status'][] = [];
    const a = new Autosaver<string>(1, { save, onChange: (s) => states.push(s.status), delayMs: 500 });
    a.edit('a');
    a.edit('ab');
    a.edit('abc');
    expect(a.snapshot.status).toBe('dirty');
    await vi.advanceTimersByTimeAsync(600);
    expect(save).toHaveBeenCalledTimes(1);
    expect(server.doc).toBe('abc');
    expect(a.snapshot).toMatchObject({ status: 'saved', draftVersion: 2 });
    expect(states).toContain('saving');
  });

  it('goes to conflict on 409, stops saving and never overwrites silently', async () => {
    const { server, save } = fakeServer();
    server.version = 5; // someone else saved meanwhile
    const a = new Autosaver<string>(1, { save, onChange: () => {}, delayMs: 100 });
    a.edit('mine');
    await vi.advanceTimersByTimeAsync(200);
    expect(a.snapshot.status).toBe('conflict');
    a.edit('mine 2');
    await vi.advanceTimersByTimeAsync(1000);
    expect(save).toHaveBeenCalledTimes(1);
    expect(server.writes).toEqual([]);
    expect(a.snapshot.status).toBe('conflict');
  });

  it('overwrites only on explicit request, with the server version', async () => {
    const { server, save } = fakeServer();
    server.version = 5;
    const a = new Autosaver<string>(1, { save, onChange: () => {}, delayMs: 100 });
    a.edit('mine');
    await vi.advanceTimersByTimeAsync(200);
    await a.overwrite(server.version);
    expect(server.doc).toBe('mine');
    expect(a.snapshot).toMatchObject({ status: 'saved', draftVersion: 6 });
  });

  it('reloading the server draft clears the conflict', async () => {
    const { server, save } = fakeServer();
    server.version = 3;
    const a = new Autosaver<string>(1, { save, onChange: () => {}, delayMs: 100 });
    a.edit('x');
    await vi.advanceTimersByTimeAsync(200);
    a.loaded(3);
    expect(a.snapshot.status).toBe('saved');
    a.edit('y');
    await vi.advanceTimersByTimeAsync(200);
    expect(server.doc).toBe('y');
  });

  it('an edit during a save is saved right after it', async () => {
    const { server, save } = fakeServer();
    const a = new Autosaver<string>(1, { save, onChange: () => {}, delayMs: 100 });
    a.edit('one');
    await vi.advanceTimersByTimeAsync(100);
    a.edit('two'); // while the first save is in flight
    await vi.advanceTimersByTimeAsync(500);
    expect(server.writes).toEqual(['one', 'two']);
    expect(a.snapshot.status).toBe('saved');
  });

  it('network errors are shown and can be retried', async () => {
    let fail = true;
    const save = vi.fn(async () => {
      if (fail) throw new Error('offline');
      return { draftVersion: 2 };
    });
    const a = new Autosaver<string>(1, { save, onChange: () => {}, delayMs: 10 });
    a.edit('x');
    await vi.advanceTimersByTimeAsync(50);
    expect(a.snapshot).toMatchObject({ status: 'error', error: 'offline' });
    fail = false;
    a.retry();
    await vi.advanceTimersByTimeAsync(50);
    expect(a.snapshot.status).toBe('saved');
  });

  it('reducer: an edit keeps the conflict state', () => {
    const s = saveReducer(saveReducer(initialSaveState(1), { type: 'save-conflict' }), { type: 'edit' });
    expect(s.status).toBe('conflict');
  });
});
