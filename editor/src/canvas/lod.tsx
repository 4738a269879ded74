/**
 * Level of detail on the canvas. Below `LOD_ZOOM` text is too small to read (13 px names become
 * < 6 px), so nodes draw a cheap body instead: one box with the node's status/selection colours,
 * no handles, labels or badges. One React Flow store selector per canvas returns a boolean, handed
 * to the nodes through a context: nodes re-render only when the zoom crosses the threshold, and a
 * zoom frame costs one selector call, not one per node. Large grids draw a canvas overview instead
 * (overview.tsx); the cheap bodies are for smaller canvases that opt in (`levelOfDetail`).
 */
import { createContext, useContext, type ReactNode } from 'react';
import { useStore, type ReactFlowState } from '@xyflow/react';

export const LOD_ZOOM = 0.45;

export const lowDetailSelector = (s: ReactFlowState): boolean => s.transform[2] < LOD_ZOOM;

const LowDetailContext = createContext(false);

/**
 * Wraps a <ReactFlow> (inside its ReactFlowProvider): tells the nodes whether to draw their cheap
 * body. `enabled={false}` keeps every node detailed (small grids: nothing to gain, and a fitted
 * template preview should show its ports).
 */
export function LevelOfDetail({ enabled = true, children }: { enabled?: boolean; children: ReactNode }) {
  const low = useStore(lowDetailSelector) && enabled;
  return <LowDetailContext.Provider value={low}>{children}</LowDetailContext.Provider>;
}

/** True while the canvas is zoomed out below `LOD_ZOOM` (false outside a LevelOfDetail). */
export function useLowDetail(): boolean {
  return useContext(LowDetailContext);
}
