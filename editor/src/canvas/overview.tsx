/**
 * The zoomed-out overview of a large grid: every node and edge drawn on ONE <canvas> instead of
 * 1,000 React Flow node components. Below LOD_ZOOM a large grid hands React Flow hidden nodes (so it
 * mounts none, keeping measurements) and this layer draws the grid from the current viewport
 * transform: a store subscription schedules one requestAnimationFrame redraw, nothing re-renders in
 * React while panning or zooming.
 *
 * The canvas takes no pointer events: wheel and drag reach React Flow's pane as usual; a click on
 * the pane is hit-tested here (`hitTest`) and selects the node under it, a double click on a node
 * zooms to it. `OverviewMiniMap` stands in for React Flow's minimap, which draws no hidden node.
 */
import { useCallback, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore, type PointerEvent as ReactPointerEvent } from 'react';
import { Panel, useReactFlow, useStoreApi, type ReactFlowState } from '@xyflow/react';
import type { NodeTypeInfo } from '../api/types.js';
import { useNodeTypes } from '../session.js';
import type { FlowEdge, FlowNode } from './mapping.js';
import { OverlayContext, type NodeOverlay, type OverlayStore } from './overlay-store.js';
import { estimatedNodeHeight } from './node-geometry.js';
import { LOD_ZOOM } from './lod.js';

/** A node's box in flow coordinates. */
interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Category colours (the node's band and the minimap); unknown categories get a hashed hue. */
const CATEGORY_COLOUR: Record<string, string> = {
  trigger: '#f08c00',
  content: '#3b5bdb',
  logic: '#7048e8',
  data: '#0c8599',
  utility: '#868e96',
  onboarding: '#2f9e44',
  'run-test': '#e64980',
};

export function categoryColour(category: string | undefined): string {
  if (!category) return '#868e96';
  const known = CATEGORY_COLOUR[category];
  if (known) return known;
  let h = 0;
  for (let i = 0; i < category.length; i++) h = (h * 31 + category.charCodeAt(i)) % 360;
  return `hsl(${h} 55% 45%)`;
}

/** Border colours of the detailed node (styles.css `.gnode.st-*`), for the same cues zoomed out. */
const STATUS_STROKE: Record<string, string> = {
  running: '#1c7ed6',
  completed: '#2b8a3e',
  failed: '#c92a2a',
  waiting: '#ae3ec9',
  pending: '#98a2b3',
  skipped: '#d0d5dd',
};
const DIFF_FILL: Record<string, string> = { added: '#ebfbee', removed: '#fff5f5', changed: '#fff9db' };
const DIFF_STROKE: Record<string, string> = { added: '#2b8a3e', removed: '#c92a2a', changed: '#f08c00' };

/** Names are drawn in 28 flow-px type (like the old cheap node body), only when legible on screen. */
const NAME_PX = 28;
const MIN_LEGIBLE_PX = 7;

export function nodeBox(n: FlowNode): Box {
  const w = n.measured?.width ?? n.width ?? n.initialWidth ?? 220;
  const h = n.measured?.height ?? n.height ?? n.initialHeight ?? estimatedNodeHeight(1);
  return { x: n.position.x, y: n.position.y, w, h };
}

/** The topmost node whose box contains the flow point (later nodes draw on top), or undefined. */
export function hitTest(nodes: readonly FlowNode[], p: { x: number; y: number }): FlowNode | undefined {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    const b = nodeBox(n);
    if (p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h) return n;
  }
  return undefined;
}

interface DrawInput {
  nodes: readonly FlowNode[];
  edges: readonly FlowEdge[];
  byType: Map<string, NodeTypeInfo>;
  overlays: OverlayStore;
  state: ReactFlowState<FlowNode, FlowEdge>;
  revealed?: ReadonlySet<string>;
}

/** Where an edge leaves/enters a node: the measured (or estimated) handle, else the side's middle. */
function handlePoint(state: ReactFlowState<FlowNode, FlowEdge>, id: string, handle: string | null | undefined, kind: 'source' | 'target', box: Box): [number, number] {
  const internal = state.nodeLookup.get(id);
  const bounds = internal?.internals.handleBounds?.[kind] ?? internal?.handles?.filter((h) => h.type === kind);
  const h = bounds?.find((b) => (b.id ?? null) === (handle ?? null)) ?? bounds?.[0];
  if (h) return [box.x + h.x + (h.width ?? 0) / 2, box.y + h.y + (h.height ?? 0) / 2];
  return [kind === 'source' ? box.x + box.w : box.x, box.y + box.h / 2];
}

function draw(canvas: HTMLCanvasElement, { nodes, edges, byType, overlays, state, revealed }: DrawInput) {
  const { width, height, transform } = state;
  const dpr = window.devicePixelRatio || 1;
  const pw = Math.max(1, Math.round(width * dpr));
  const ph = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== pw || canvas.height !== ph) {
    canvas.width = pw;
    canvas.height = ph;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const [tx, ty, k] = transform;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, pw, ph);
  ctx.setTransform(dpr * k, 0, 0, dpr * k, dpr * tx, dpr * ty);
  // The visible flow rectangle, for culling.
  const vx0 = -tx / k;
  const vy0 = -ty / k;
  const vx1 = vx0 + width / k;
  const vy1 = vy0 + height / k;
  const boxes = new Map<string, Box>();
  for (const n of nodes) boxes.set(n.id, nodeBox(n));

  // Edges: one path per style (a few stroke calls for 1,200 edges); beziers while they can be told
  // apart, straight lines when zoomed far out (cheaper to rasterise, indistinguishable there).
  const curved = k >= 0.2;
  const paths = { plain: new Path2D(), error: new Path2D(), taken: new Path2D(), selected: new Path2D() };
  for (const e of edges) {
    const sb = boxes.get(e.source);
    const tb = boxes.get(e.target);
    if (!sb || !tb || (revealed?.has(e.source) && revealed.has(e.target))) continue;
    if (Math.max(sb.x + sb.w, tb.x + tb.w) < vx0 || Math.min(sb.x, tb.x) > vx1 || Math.max(sb.y + sb.h, tb.y + tb.h) < vy0 || Math.min(sb.y, tb.y) > vy1) continue;
    const [x1, y1] = handlePoint(state, e.source, e.sourceHandle, 'source', sb);
    const [x2, y2] = handlePoint(state, e.target, e.targetHandle, 'target', tb);
    const cls = e.className ?? '';
    const p = e.selected ? paths.selected : /edge-(taken|diff-added)/.test(cls) ? paths.taken : /edge-(error|problem|diff-removed)/.test(cls) || e.sourceHandle === 'error' ? paths.error : paths.plain;
    p.moveTo(x1, y1);
    if (curved) {
      const dx = Math.max(40, Math.abs(x2 - x1) / 2);
      p.bezierCurveTo(x1 + dx, y1, x2 - dx, y2, x2, y2);
    } else p.lineTo(x2, y2);
  }
  const px = 1 / k; // one screen pixel in flow units
  ctx.lineWidth = px;
  ctx.strokeStyle = '#b1b1b7';
  ctx.stroke(paths.plain);
  ctx.strokeStyle = '#e5a3a3';
  ctx.stroke(paths.error);
  ctx.lineWidth = 2.5 * px;
  ctx.strokeStyle = '#1c7ed6';
  ctx.stroke(paths.taken);
  ctx.strokeStyle = '#3b5bdb';
  ctx.stroke(paths.selected);

  // Nodes, batched by style: one fill + one stroke per distinct look (most nodes share one), then
  // the category bands, then names when legible. Corners are square once they would be < 2 px.
  const rounded = 10 * k >= 2;
  const band = Math.max(8, 4 * px);
  interface Batch {
    fill: string;
    stroke: string;
    width: number;
    alpha: number;
    path: Path2D;
  }
  const batches = new Map<string, Batch>();
  const bands = new Map<string, Path2D>();
  const visible: { n: FlowNode; b: Box }[] = [];
  const selected: Box[] = [];
  for (const n of nodes) {
    const b = boxes.get(n.id)!;
    if (revealed?.has(n.id) || b.x + b.w < vx0 || b.x > vx1 || b.y + b.h < vy0 || b.y > vy1) continue;
    visible.push({ n, b });
    const ov: NodeOverlay = overlays.get(n.id);
    const t = byType.get(n.data.type);
    const fill = (ov.diff && DIFF_FILL[ov.diff]) || (ov.status === 'failed' ? '#fff8f8' : '#ffffff');
    const problems = (ov.problems?.length ?? 0) > 0 || !t;
    const stroke = n.selected ? '#3b5bdb' : (ov.status && STATUS_STROKE[ov.status]) || (ov.diff && DIFF_STROKE[ov.diff]) || (problems ? '#c92a2a' : '#d0d5dd');
    const width = Math.max(1.5, (n.selected || ov.status === 'running' ? 2.5 : 1.2) * px);
    const alpha = n.data.disabled || ov.status === 'skipped' ? 0.55 : 1;
    const key = `${fill}|${stroke}|${width}|${alpha}`;
    let batch = batches.get(key);
    if (!batch) batches.set(key, (batch = { fill, stroke, width, alpha, path: new Path2D() }));
    if (rounded) batch.path.roundRect(b.x, b.y, b.w, b.h, 10);
    else batch.path.rect(b.x, b.y, b.w, b.h);
    const colour = categoryColour(t?.category);
    let bandPath = bands.get(colour);
    if (!bandPath) bands.set(colour, (bandPath = new Path2D()));
    bandPath.rect(b.x + 1, b.y + 6, band, b.h - 12);
    if (n.selected) selected.push(b);
  }
  for (const { fill, stroke, width, alpha, path } of batches.values()) {
    ctx.globalAlpha = alpha;
    ctx.fillStyle = fill;
    ctx.fill(path);
    ctx.strokeStyle = stroke;
    ctx.lineWidth = width;
    ctx.stroke(path);
  }
  ctx.globalAlpha = 1;
  for (const [colour, path] of bands) {
    ctx.fillStyle = colour;
    ctx.fill(path);
  }
  // Names: 28 flow px when zoomed out (legible from MIN_LEGIBLE_PX on screen); while nodes wait for
  // the reveal at higher zooms, about the detailed node's 13 px on screen.
  const namePx = Math.min(NAME_PX, Math.max(13, 13 / k));
  if (namePx * k >= MIN_LEGIBLE_PX) {
    ctx.font = `600 ${namePx}px Inter, system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    ctx.fillStyle = '#344054';
    for (const { n, b } of visible) {
      const room = b.w - band - 16;
      const max = Math.max(1, Math.floor(room / (namePx * 0.58)));
      const name = n.data.name.length > max ? `${n.data.name.slice(0, Math.max(1, max - 1))}…` : n.data.name;
      ctx.fillText(name, b.x + band + 8, b.y + Math.min(b.h / 2, 10 + namePx / 2), room);
    }
  }
  // Selection halo on top, so it shows even where neighbours overlap.
  if (selected.length) {
    ctx.strokeStyle = 'rgba(59,91,219,.35)';
    ctx.lineWidth = 5 * px;
    const halo = new Path2D();
    for (const b of selected) halo.rect(b.x - 3 * px, b.y - 3 * px, b.w + 6 * px, b.h + 6 * px);
    ctx.stroke(halo);
  }
}

/** Redraws `drawNow` on the next animation frame, at most once per frame. */
function useFrameScheduler(drawNow: () => void) {
  const raf = useRef(0);
  const latest = useRef(drawNow);
  latest.current = drawNow;
  useEffect(() => () => cancelAnimationFrame(raf.current), []);
  return useCallback(() => {
    if (raf.current) return;
    raf.current = requestAnimationFrame(() => {
      raf.current = 0;
      latest.current();
    });
  }, []);
}

/** Subscribes `schedule` to viewport and size changes of the React Flow store (no React render). */
function useViewportRedraw(schedule: () => void) {
  const store = useStoreApi<FlowNode, FlowEdge>();
  useEffect(
    () =>
      store.subscribe((s, prev) => {
        if (s.transform !== prev.transform || s.width !== prev.width || s.height !== prev.height) schedule();
      }),
    [store, schedule],
  );
}

/** What React Flow gets while the overview is shown (see `useOverviewElements`). */
function overviewElements(nodes: readonly FlowNode[], edges: readonly FlowEdge[], copies: WeakMap<FlowNode, FlowNode>) {
  const selected = new Set<string>();
  const flowNodes = nodes.map((n) => {
    if (n.selected) selected.add(n.id);
    return hiddenCopy(n, copies);
  });
  // Edges of selected nodes stay in React Flow's store (hidden, so not drawn): deleting a selected
  // node from the overview removes its edges too. Other edges are not handed over at all, so React
  // Flow keeps no edge component mounted.
  const flowEdges = edges.filter((e) => e.selected || selected.has(e.source) || selected.has(e.target)).map((e) => ({ ...e, hidden: true }));
  return { flowNodes, flowEdges };
}

/**
 * Which elements React Flow mounts for a large grid:
 * - `detail`: all of them (it culls off-screen ones itself);
 * - `overview`: none (below LOD_ZOOM; the overview layer draws the grid);
 * - `revealing`: zoomed back in, or zooming above LOD_ZOOM: React Flow holds the nodes revealed so
 *   far; once the zoom has settled, the on-screen nodes are handed over a few per frame (mounting
 *   ~180 detailed nodes at once froze the canvas for 0.4-0.6 s on the 2-core bench machine, and
 *   zooming out mounted the newly visible ones on every frame); the overview layer draws the others.
 */
export type OverviewMode = { kind: 'detail' } | { kind: 'overview' } | { kind: 'revealing'; revealed: ReadonlySet<string> };

const DETAIL: OverviewMode = { kind: 'detail' };
const OVERVIEW: OverviewMode = { kind: 'overview' };

/** Nodes handed to React Flow per frame while revealing. */
export const REVEAL_CHUNK = 24;
/**
 * The reveal waits until the zoom has not changed for this long: during a zoom gesture the nodes
 * React Flow has mounted stay as they are (no mounting per frame), the overview layer draws the
 * rest, and the nodes mounted at the end are only those on screen at the final zoom.
 */
export const REVEAL_SETTLE_MS = 120;

/** The mode as a tiny external store: React Flow's store listener switches it in the same batch as the zoom. */
class ModeStore {
  private listeners = new Set<() => void>();
  constructor(public mode: OverviewMode) {}
  get = () => this.mode;
  set(mode: OverviewMode) {
    if (mode === this.mode) return;
    this.mode = mode;
    for (const l of this.listeners) l();
  }
  subscribe = (l: () => void) => {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  };
}

function hiddenCopy(n: FlowNode, copies: WeakMap<FlowNode, FlowNode>): FlowNode {
  let h = copies.get(n);
  if (!h) copies.set(n, (h = { ...n, hidden: true }));
  return h;
}

/**
 * The nodes and edges to hand React Flow for a large grid, and the current mode (see OverviewMode).
 * Hidden nodes stay in React Flow's store with their measured sizes and handles, but it mounts none;
 * there is one hidden copy per node object, so a change to one node hands over one new object.
 *
 * Zooming out across LOD_ZOOM switches inside React Flow's store listener, in the same update as the
 * zoom: its node and edge renderers never see the new zoom with the old elements (which would mount
 * every node, all "visible" now, for one render). Zooming in starts the reveal.
 */
export function useOverviewElements(enabled: boolean, nodes: FlowNode[], edges: FlowEdge[]) {
  const store = useStoreApi<FlowNode, FlowEdge>();
  const copies = useRef(new WeakMap<FlowNode, FlowNode>());
  const latest = useRef({ nodes, edges });
  latest.current = { nodes, edges };
  const [modes] = useState(() => new ModeStore(enabled && store.getState().transform[2] < LOD_ZOOM ? OVERVIEW : DETAIL));
  const lastZoom = useRef(0);
  const mode = useSyncExternalStore(modes.subscribe, modes.get);
  useLayoutEffect(() => {
    if (!enabled) {
      modes.set(DETAIL);
      return;
    }
    const toOverview = (s: ReactFlowState<FlowNode, FlowEdge>) => {
      const next = overviewElements(latest.current.nodes, latest.current.edges, copies.current);
      s.setNodes(next.flowNodes);
      s.setEdges(next.flowEdges);
      modes.set(OVERVIEW);
    };
    if (store.getState().transform[2] < LOD_ZOOM && modes.mode.kind !== 'overview') toOverview(store.getState());
    return store.subscribe((s, prev) => {
      const zoomed = s.transform[2] !== prev.transform[2];
      if (zoomed) lastZoom.current = performance.now();
      const low = s.transform[2] < LOD_ZOOM;
      if (low !== prev.transform[2] < LOD_ZOOM) {
        if (low) toOverview(s);
        else modes.set({ kind: 'revealing', revealed: new Set() });
      } else if (!low && zoomed && prev.panZoom && modes.mode.kind === 'detail') {
        // (prev.panZoom: not the initial viewport, which React Flow sets along with its pan-zoom.)
        // A zoom starts on the detailed canvas: freeze the mounted nodes to those on screen before
        // it (zooming out would mount the newly visible ones on every frame); the overview layer
        // draws the others until the zoom settles and the reveal mounts them.
        const next: OverviewMode = { kind: 'revealing', revealed: visibleIds(latest.current.nodes, prev.transform, prev.width, prev.height) };
        const el = elementsFor(next, latest.current.nodes, latest.current.edges, copies.current);
        s.setNodes(el.flowNodes);
        s.setEdges(el.flowEdges);
        modes.set(next);
      }
    });
  }, [enabled, store, modes]);
  // The reveal: once settled, each frame hands over up to REVEAL_CHUNK more of the nodes on screen.
  useEffect(() => {
    if (mode.kind !== 'revealing') return;
    let raf = 0;
    const step = () => {
      if (performance.now() - lastZoom.current < REVEAL_SETTLE_MS) {
        raf = requestAnimationFrame(step);
        return;
      }
      const { transform, width, height } = store.getState();
      const [tx, ty, k] = transform;
      const x0 = -tx / k, y0 = -ty / k, x1 = x0 + width / k, y1 = y0 + height / k;
      const revealed = new Set(mode.revealed);
      let added = 0;
      let more = false;
      for (const n of latest.current.nodes) {
        if (revealed.has(n.id)) continue;
        const b = nodeBox(n);
        if (b.x + b.w < x0 || b.x > x1 || b.y + b.h < y0 || b.y > y1) continue;
        if (added === REVEAL_CHUNK) {
          more = true;
          break;
        }
        revealed.add(n.id);
        added++;
      }
      modes.set(more ? { kind: 'revealing', revealed } : DETAIL);
    };
    raf = requestAnimationFrame(step);
    return () => cancelAnimationFrame(raf);
  }, [mode, modes, store]);
  const elements = useMemo(() => elementsFor(mode, nodes, edges, copies.current), [mode, nodes, edges]);
  return { mode, ...elements };
}

function elementsFor(mode: OverviewMode, nodes: FlowNode[], edges: FlowEdge[], copies: WeakMap<FlowNode, FlowNode>) {
  switch (mode.kind) {
    case 'overview':
      return overviewElements(nodes, edges, copies);
    case 'revealing': {
      const { revealed } = mode;
      return {
        flowNodes: nodes.map((n) => (revealed.has(n.id) ? n : hiddenCopy(n, copies))),
        flowEdges: edges.filter((e) => revealed.has(e.source) && revealed.has(e.target)),
      };
    }
    case 'detail':
      return { flowNodes: nodes, flowEdges: edges };
  }
}

/** Ids of the nodes whose boxes intersect the viewport of `transform`. */
function visibleIds(nodes: readonly FlowNode[], [tx, ty, k]: readonly [number, number, number], width: number, height: number): Set<string> {
  const x0 = -tx / k, y0 = -ty / k, x1 = x0 + width / k, y1 = y0 + height / k;
  const ids = new Set<string>();
  for (const n of nodes) {
    const b = nodeBox(n);
    if (b.x + b.w >= x0 && b.x <= x1 && b.y + b.h >= y0 && b.y <= y1) ids.add(n.id);
  }
  return ids;
}

export interface OverviewProps {
  /** The grid's nodes and edges as the editor holds them (React Flow gets hidden copies). */
  nodes: readonly FlowNode[];
  edges: readonly FlowEdge[];
  /** Nodes React Flow draws already (while revealing): not drawn here, nor edges between two of them. */
  revealed?: ReadonlySet<string>;
}

/**
 * The overview layer: a <canvas> over the pane, sized to it and devicePixelRatio-aware. Render it
 * inside <ReactFlow> only while the overview is active.
 */
export function OverviewLayer({ nodes, edges, revealed }: OverviewProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const store = useStoreApi<FlowNode, FlowEdge>();
  const { byType } = useNodeTypes();
  const overlays = useContext(OverlayContext);
  const drawNow = useCallback(() => {
    if (canvas.current) draw(canvas.current, { nodes, edges, byType, overlays, state: store.getState(), revealed });
  }, [nodes, edges, byType, overlays, store, revealed]);
  const schedule = useFrameScheduler(drawNow);
  useViewportRedraw(schedule);
  // Draw before the first paint after switching (and after data changes): no blank frame.
  useLayoutEffect(drawNow, [drawNow]);
  useEffect(() => overlays.subscribeAll(schedule), [overlays, schedule]);
  return <canvas ref={canvas} className="grid-overview" data-testid="grid-overview" aria-label={`Overview of ${nodes.length} nodes`} role="img" />;
}

/**
 * Pane-click and double-click handling for the overview: hit-tests the click in flow coordinates.
 * `select` is called after React Flow's own pane-click handling (which unselects everything).
 */
export function useOverviewPointer(nodes: readonly FlowNode[], active: boolean) {
  const rf = useReactFlow<FlowNode, FlowEdge>();
  const store = useStoreApi<FlowNode, FlowEdge>();
  const nodesRef = useRef(nodes);
  nodesRef.current = nodes;
  const hitAt = useCallback(
    (clientX: number, clientY: number) => hitTest(nodesRef.current, rf.screenToFlowPosition({ x: clientX, y: clientY }, { snapToGrid: false })),
    [rf],
  );
  /** Returns true when the click hit a node (and selects it). */
  const onClick = useCallback(
    (e: { clientX: number; clientY: number }) => {
      if (!active) return false;
      const hit = hitAt(e.clientX, e.clientY);
      if (!hit) return false;
      // React Flow resets the selection right after onPaneClick: select once that has happened.
      queueMicrotask(() => store.getState().addSelectedNodes([hit.id]));
      return true;
    },
    [active, hitAt, store],
  );
  // Double click on a node zooms to it; captured before React Flow's zoom-on-double-click.
  useEffect(() => {
    const dom = store.getState().domNode;
    if (!active || !dom) return;
    const onDbl = (e: MouseEvent) => {
      const target = e.target as Element | null;
      if (!target?.closest('.react-flow__pane')) return;
      const hit = hitAt(e.clientX, e.clientY);
      if (!hit) return;
      e.stopPropagation();
      e.preventDefault();
      const b = nodeBox(hit);
      void rf.setCenter(b.x + b.w / 2, b.y + b.h / 2, { zoom: 1, duration: 250 });
    };
    dom.addEventListener('dblclick', onDbl, true);
    return () => dom.removeEventListener('dblclick', onDbl, true);
  }, [active, hitAt, rf, store]);
  return onClick;
}

const MINI_W = 200;
const MINI_H = 150;

/**
 * The minimap while the overview is active (React Flow's MiniMap skips hidden nodes): the grid in
 * category colours and the viewport, on a canvas. Click or drag to move the view there, wheel to zoom.
 */
export function OverviewMiniMap({ nodes, ariaLabel = 'Mini map' }: { nodes: readonly FlowNode[]; ariaLabel?: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const store = useStoreApi<FlowNode, FlowEdge>();
  const rf = useReactFlow<FlowNode, FlowEdge>();
  const { byType } = useNodeTypes();
  const geometry = useRef({ scale: 1, ox: 0, oy: 0 });
  const nodeLayer = useRef<{ nodes: readonly FlowNode[]; byType: Map<string, NodeTypeInfo>; key: string; bitmap: HTMLCanvasElement } | null>(null);
  const drawNow = useCallback(() => {
    const c = canvas.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    const { transform, width, height } = store.getState();
    const [tx, ty, k] = transform;
    const view = { x: -tx / k, y: -ty / k, w: width / k, h: height / k };
    let x0 = view.x, y0 = view.y, x1 = view.x + view.w, y1 = view.y + view.h;
    for (const n of nodes) {
      const b = nodeBox(n);
      x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y);
      x1 = Math.max(x1, b.x + b.w); y1 = Math.max(y1, b.y + b.h);
    }
    const scale = Math.min(MINI_W / (x1 - x0), MINI_H / (y1 - y0)) * 0.94;
    const ox = (MINI_W - (x1 - x0) * scale) / 2 - x0 * scale;
    const oy = (MINI_H - (y1 - y0) * scale) / 2 - y0 * scale;
    geometry.current = { scale, ox, oy };
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== MINI_W * dpr) {
      c.width = MINI_W * dpr;
      c.height = MINI_H * dpr;
    }
    // The nodes are drawn once per (nodes, bounds) into a cached bitmap; a viewport change blits it.
    const key = `${x0},${y0},${x1},${y1},${dpr}`;
    let cache = nodeLayer.current;
    if (!cache || cache.nodes !== nodes || cache.byType !== byType || cache.key !== key) {
      const bitmap = cache?.bitmap ?? document.createElement('canvas');
      bitmap.width = MINI_W * dpr;
      bitmap.height = MINI_H * dpr;
      const bctx = bitmap.getContext('2d');
      if (!bctx) return;
      bctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      bctx.fillStyle = '#ffffff';
      bctx.fillRect(0, 0, MINI_W, MINI_H);
      bctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * ox, dpr * oy);
      for (const n of nodes) {
        const b = nodeBox(n);
        bctx.fillStyle = n.selected ? '#3b5bdb' : categoryColour(byType.get(n.data.type)?.category);
        bctx.globalAlpha = n.selected ? 1 : 0.55;
        bctx.fillRect(b.x, b.y, b.w, b.h);
      }
      nodeLayer.current = cache = { nodes, byType, key, bitmap };
    }
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(cache.bitmap, 0, 0);
    // Mask outside the viewport, like React Flow's minimap.
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = 'rgba(240, 240, 240, 0.6)';
    const vx = view.x * scale + ox, vy = view.y * scale + oy, vw = view.w * scale, vh = view.h * scale;
    ctx.beginPath();
    ctx.rect(0, 0, MINI_W, MINI_H);
    ctx.rect(vx, vy, vw, vh);
    ctx.fill('evenodd');
    ctx.strokeStyle = '#98a2b3';
    ctx.lineWidth = 1;
    ctx.strokeRect(vx, vy, vw, vh);
  }, [nodes, byType, store]);
  const schedule = useFrameScheduler(drawNow);
  useViewportRedraw(schedule);
  useLayoutEffect(drawNow, [drawNow]);

  const centreOn = (e: ReactPointerEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const { scale, ox, oy } = geometry.current;
    const fx = (e.clientX - r.left - ox) / scale;
    const fy = (e.clientY - r.top - oy) / scale;
    void rf.setCenter(fx, fy, { zoom: store.getState().transform[2] });
  };
  return (
    <Panel position="bottom-right" className="react-flow__minimap grid-overview-minimap" data-testid="rf__minimap">
      <canvas
        ref={canvas}
        role="img"
        aria-label={ariaLabel}
        style={{ width: MINI_W, height: MINI_H, display: 'block', cursor: 'grab' }}
        onPointerDown={(e) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          centreOn(e);
        }}
        onPointerMove={(e) => {
          if (e.currentTarget.hasPointerCapture(e.pointerId)) centreOn(e);
        }}
        onWheel={(e) => {
          const k = store.getState().transform[2];
          void rf.zoomTo(k * Math.pow(2, -e.deltaY * 0.002));
        }}
      />
    </Panel>
  );
}
