/**
 * Per-node overlays (run status, server problems, diff marks) kept outside React Flow's node
 * data: a node component subscribes to its own id only, so a run event re-renders one node,
 * not the whole 1,000-node graph.
 */
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { StepStatus } from '@gridflow/runtime/engine';
import type { DiffMark } from '../lib/diff.js';

export interface NodeOverlay {
  status?: StepStatus;
  attempt?: number;
  problems?: string[];
  diff?: DiffMark;
  itemCount?: number;
}

const EMPTY: NodeOverlay = Object.freeze({});

export class OverlayStore {
  private map = new Map<string, NodeOverlay>();
  private listeners = new Map<string, Set<() => void>>();
  private allListeners = new Set<() => void>();

  get(id: string): NodeOverlay {
    return this.map.get(id) ?? EMPTY;
  }

  subscribe(id: string, cb: () => void): () => void {
    let set = this.listeners.get(id);
    if (!set) this.listeners.set(id, (set = new Set()));
    set.add(cb);
    return () => set!.delete(cb);
  }

  /** Called once per `setAll` that changed anything (the zoomed-out overview redraws everything). */
  subscribeAll(cb: () => void): () => void {
    this.allListeners.add(cb);
    return () => this.allListeners.delete(cb);
  }

  /** Replaces all overlays; notifies only nodes whose overlay changed. */
  setAll(next: Map<string, NodeOverlay>): void {
    const changed: string[] = [];
    for (const [id, ov] of next) if (!shallowEqual(this.map.get(id), ov)) changed.push(id);
    for (const id of this.map.keys()) if (!next.has(id)) changed.push(id);
    this.map = next;
    for (const id of changed) for (const cb of this.listeners.get(id) ?? []) cb();
    if (changed.length) for (const cb of this.allListeners) cb();
  }
}

function shallowEqual(a: NodeOverlay | undefined, b: NodeOverlay | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const ka = Object.keys(a) as (keyof NodeOverlay)[];
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => (k === 'problems' ? (a.problems ?? []).join('\n') === (b.problems ?? []).join('\n') : a[k] === b[k]));
}

export const OverlayContext = createContext<OverlayStore>(new OverlayStore());

export function useNodeOverlay(id: string): NodeOverlay {
  const store = useContext(OverlayContext);
  return useSyncExternalStore(
    (cb) => store.subscribe(id, cb),
    () => store.get(id),
  );
}
