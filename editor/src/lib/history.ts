/**
 * Undo/redo over immutable snapshots. Pure: the canvas keeps one `History<GridSnapshot>` and
 * pushes a snapshot after each user edit (add, delete, connect, drag end, config change).
 */
export interface History<T> {
  past: T[];
  present: T;
  future: T[];
}

export const HISTORY_LIMIT = 200;

export function createHistory<T>(present: T): History<T> {
  return { past: [], present, future: [] };
}

/** Records `next` as the new present; a redo branch is dropped. Identical snapshots are ignored. */
export function push<T>(h: History<T>, next: T, equals: (a: T, b: T) => boolean = Object.is, limit = HISTORY_LIMIT): History<T> {
  if (equals(h.present, next)) return h;
  const past = [...h.past, h.present];
  if (past.length > limit) past.splice(0, past.length - limit);
  return { past, present: next, future: [] };
}

/** Replaces the present without creating an undo step (e.g. after the server assigned ids). */
export function replace<T>(h: History<T>, present: T): History<T> {
  return { ...h, present };
}

export function undo<T>(h: History<T>): History<T> {
  if (h.past.length === 0) return h;
  const previous = h.past[h.past.length - 1] as T;
  return { past: h.past.slice(0, -1), present: previous, future: [h.present, ...h.future] };
}

export function redo<T>(h: History<T>): History<T> {
  if (h.future.length === 0) return h;
  const [next, ...rest] = h.future as [T, ...T[]];
  return { past: [...h.past, h.present], present: next, future: rest };
}

export const canUndo = <T>(h: History<T>) => h.past.length > 0;
export const canRedo = <T>(h: History<T>) => h.future.length > 0;
