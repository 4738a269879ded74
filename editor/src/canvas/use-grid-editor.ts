/**
 * Editing state of one grid on the canvas: React Flow nodes/edges (the live truth while dragging),
 * undo/redo over document snapshots, and the edit operations the toolbar and shortcuts call.
 * Every user edit ends in `commit`, which records a history step and tells autosave.
 */
import { useCallback, useMemo, useRef, useState } from 'react';
import { applyEdgeChanges, applyNodeChanges, type Connection, type EdgeChange, type NodeChange } from '@xyflow/react';
import type { GridDocument } from '@gridflow/runtime/document';
import type { NodeTypeInfo } from '../api/types.js';
import { canRedo, canUndo, createHistory, push, redo, replace, undo, type History } from '../lib/history.js';
import { canConnect, type ConnectionCheck } from '../lib/graph-rules.js';
import { makeFragment, newId, pasteFragment, uniqueName, type Fragment } from '../lib/clipboard.js';
import { defaultsOf } from '../lib/schema.js';
import { layoutGraph } from '../lib/layout.js';
import { dropEstimates, withEstimatedGeometry } from './node-geometry.js';
import { toDocument, toFlow, type FlowEdge, type FlowNode, type GridNodeData } from './mapping.js';

const docKey = (d: GridDocument) => JSON.stringify([d.nodes, d.edges, d.settings]);
const sameDoc = (a: GridDocument, b: GridDocument) => docKey(a) === docKey(b);
const COALESCE_MS = 1500;
/** Above this many nodes (the editor's large-grid threshold) nodes start with estimated geometry. */
const ESTIMATE_ABOVE = 300;

export interface GridEditorOptions {
  typeOf: (type: string) => NodeTypeInfo | undefined;
  /** Called with the new document after every committed edit (autosave). */
  onEdit?: (doc: GridDocument) => void;
  readOnly?: boolean;
}

export function useGridEditor(initial: GridDocument, opts: GridEditorOptions) {
  const first = useMemo(() => {
    const flow = toFlow(initial);
    // Large grids: estimated sizes and handles, so React Flow culls off-screen nodes from the first render.
    if (flow.nodes.length <= ESTIMATE_ABOVE) return flow;
    return { ...flow, nodes: flow.nodes.map((n) => withEstimatedGeometry(n, opts.typeOf(n.data.type))) };
  }, []); // once, on mount: later documents come through the setters
  const [nodes, setNodesState] = useState<FlowNode[]>(first.nodes);
  const [edges, setEdgesState] = useState<FlowEdge[]>(first.edges);
  const nodesRef = useRef(first.nodes);
  const edgesRef = useRef(first.edges);
  const settingsRef = useRef(initial.settings);
  const historyRef = useRef<History<GridDocument>>(createHistory(initial));
  const lastCoalesce = useRef<{ key: string; at: number } | null>(null);
  const [historyState, setHistoryState] = useState({ canUndo: false, canRedo: false });
  const optsRef = useRef(opts);
  optsRef.current = opts;
  const commitScheduled = useRef(false);

  const setNodes = useCallback((next: FlowNode[]) => {
    nodesRef.current = next;
    setNodesState(next);
  }, []);
  const setEdges = useCallback((next: FlowEdge[]) => {
    edgesRef.current = next;
    setEdgesState(next);
  }, []);

  const currentDocument = useCallback(() => toDocument(nodesRef.current, edgesRef.current, settingsRef.current), []);

  const syncHistoryFlags = useCallback(() => {
    const h = historyRef.current;
    setHistoryState((s) => (s.canUndo === canUndo(h) && s.canRedo === canRedo(h) ? s : { canUndo: canUndo(h), canRedo: canRedo(h) }));
  }, []);

  /** Records the current nodes/edges as one undo step (or merges into the previous one for `coalesceKey`). */
  const commit = useCallback(
    (coalesceKey?: string) => {
      const doc = currentDocument();
      const h = historyRef.current;
      if (sameDoc(h.present, doc)) return;
      const now = Date.now();
      const lc = lastCoalesce.current;
      if (coalesceKey && lc && lc.key === coalesceKey && now - lc.at < COALESCE_MS && h.past.length > 0) {
        historyRef.current = replace(h, doc);
      } else {
        historyRef.current = push(h, doc, sameDoc);
      }
      lastCoalesce.current = coalesceKey ? { key: coalesceKey, at: now } : null;
      syncHistoryFlags();
      optsRef.current.onEdit?.(doc);
    },
    [currentDocument, syncHistoryFlags],
  );

  /** Deleting a node removes its edges in a second change batch: both land in one undo step. */
  const scheduleCommit = useCallback(() => {
    if (commitScheduled.current) return;
    commitScheduled.current = true;
    queueMicrotask(() => {
      commitScheduled.current = false;
      commit();
    });
  }, [commit]);

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      const allowed = optsRef.current.readOnly ? changes.filter((c) => c.type === 'select' || c.type === 'dimensions') : changes;
      if (allowed.length === 0) return;
      setNodes(dropEstimates(applyNodeChanges(allowed, nodesRef.current), allowed));
      if (allowed.some((c) => c.type === 'remove' || (c.type === 'position' && c.dragging === false))) scheduleCommit();
    },
    [setNodes, scheduleCommit],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<FlowEdge>[]) => {
      const allowed = optsRef.current.readOnly ? changes.filter((c) => c.type === 'select') : changes;
      if (allowed.length === 0) return;
      setEdges(applyEdgeChanges(allowed, edgesRef.current));
      if (allowed.some((c) => c.type === 'remove')) scheduleCommit();
    },
    [setEdges, scheduleCommit],
  );

  const checkConnection = useCallback(
    (c: Connection | FlowEdge): ConnectionCheck =>
      canConnect(
        nodesRef.current.map((n) => ({ id: n.id, type: n.data.type, config: n.data.config })),
        edgesRef.current,
        { source: c.source, target: c.target, sourceHandle: c.sourceHandle ?? 'out', targetHandle: c.targetHandle ?? 'in' },
        optsRef.current.typeOf,
      ),
    [],
  );

  const onConnect = useCallback(
    (c: Connection): ConnectionCheck => {
      if (optsRef.current.readOnly) return { ok: false, reason: 'read-only' };
      const check = checkConnection(c);
      if (!check.ok) return check;
      const sourceHandle = c.sourceHandle ?? 'out';
      const edge: FlowEdge = {
        id: newId('e'),
        source: c.source,
        sourceHandle,
        target: c.target,
        targetHandle: c.targetHandle ?? 'in',
        data: { kind: sourceHandle === 'error' ? 'error' : 'default' },
      };
      setEdges([...edgesRef.current, edge]);
      commit();
      return check;
    },
    [checkConnection, setEdges, commit],
  );

  const addNode = useCallback(
    (t: NodeTypeInfo, position: { x: number; y: number }): string => {
      const id = newId('n');
      const name = uniqueName(t.label, new Set(nodesRef.current.map((n) => n.data.name)));
      const node: FlowNode = {
        id,
        type: 'grid',
        position: { x: Math.round(position.x), y: Math.round(position.y) },
        data: { name, type: t.type, typeVersion: t.version, config: defaultsOf(t.configSchema) },
        selected: true,
      };
      setNodes([...nodesRef.current.map((n) => (n.selected ? { ...n, selected: false } : n)), node]);
      setEdges(edgesRef.current.map((e) => (e.selected ? { ...e, selected: false } : e)));
      commit();
      return id;
    },
    [setNodes, setEdges, commit],
  );

  const updateNodeData = useCallback(
    (id: string, patch: Partial<GridNodeData>, coalesceKey?: string) => {
      setNodes(nodesRef.current.map((n) => (n.id === id ? { ...n, data: { ...n.data, ...patch } } : n)));
      commit(coalesceKey ?? `node:${id}:${Object.keys(patch).join(',')}`);
    },
    [setNodes, commit],
  );

  const selectedIds = useCallback(() => nodesRef.current.filter((n) => n.selected).map((n) => n.id), []);

  const deleteSelected = useCallback(() => {
    const ids = new Set(selectedIds());
    const selEdges = new Set(edgesRef.current.filter((e) => e.selected).map((e) => e.id));
    if (ids.size === 0 && selEdges.size === 0) return;
    setNodes(nodesRef.current.filter((n) => !ids.has(n.id)));
    setEdges(edgesRef.current.filter((e) => !selEdges.has(e.id) && !ids.has(e.source) && !ids.has(e.target)));
    commit();
  }, [selectedIds, setNodes, setEdges, commit]);

  const copySelection = useCallback((): Fragment | null => {
    const ids = selectedIds();
    if (ids.length === 0) return null;
    const doc = currentDocument();
    return makeFragment(doc.nodes, doc.edges, ids);
  }, [selectedIds, currentDocument]);

  const paste = useCallback(
    (fragment: Fragment, at?: { x: number; y: number }) => {
      if (fragment.nodes.length === 0) return;
      let offset = { x: 40, y: 40 };
      if (at) {
        const minX = Math.min(...fragment.nodes.map((n) => n.position.x));
        const minY = Math.min(...fragment.nodes.map((n) => n.position.y));
        offset = { x: at.x - minX, y: at.y - minY };
      }
      const doc = currentDocument();
      const pasted = pasteFragment(fragment, doc.nodes, offset);
      const flow = toFlow(pasted);
      setNodes([...nodesRef.current.map((n) => (n.selected ? { ...n, selected: false } : n)), ...flow.nodes.map((n) => ({ ...n, selected: true }))]);
      setEdges([...edgesRef.current.map((e) => (e.selected ? { ...e, selected: false } : e)), ...flow.edges]);
      commit();
    },
    [currentDocument, setNodes, setEdges, commit],
  );

  const duplicateSelection = useCallback(() => {
    const f = copySelection();
    if (f) paste(f);
  }, [copySelection, paste]);

  const selectAll = useCallback(() => {
    setNodes(nodesRef.current.map((n) => (n.selected ? n : { ...n, selected: true })));
  }, [setNodes]);

  const selectOnly = useCallback(
    (id: string | null) => {
      setNodes(nodesRef.current.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })));
      setEdges(edgesRef.current.map((e) => (e.selected ? { ...e, selected: false } : e)));
    },
    [setNodes, setEdges],
  );

  const autoLayout = useCallback(() => {
    const pos = layoutGraph(
      nodesRef.current.map((n) => ({ id: n.id, width: n.measured?.width, height: n.measured?.height })),
      edgesRef.current,
    );
    setNodes(nodesRef.current.map((n) => ({ ...n, position: pos.get(n.id) ?? n.position })));
    commit();
  }, [setNodes, commit]);

  const applyDoc = useCallback(
    (doc: GridDocument) => {
      const flow = toFlow(doc, nodesRef.current, edgesRef.current);
      settingsRef.current = doc.settings;
      setNodes(flow.nodes);
      setEdges(flow.edges);
    },
    [setNodes, setEdges],
  );

  const doUndo = useCallback(() => {
    const h = historyRef.current;
    if (!canUndo(h)) return;
    historyRef.current = undo(h);
    lastCoalesce.current = null;
    applyDoc(historyRef.current.present);
    syncHistoryFlags();
    optsRef.current.onEdit?.(historyRef.current.present);
  }, [applyDoc, syncHistoryFlags]);

  const doRedo = useCallback(() => {
    const h = historyRef.current;
    if (!canRedo(h)) return;
    historyRef.current = redo(h);
    lastCoalesce.current = null;
    applyDoc(historyRef.current.present);
    syncHistoryFlags();
    optsRef.current.onEdit?.(historyRef.current.present);
  }, [applyDoc, syncHistoryFlags]);

  /** The server's document replaced ours (reload after conflict, restore): undo history starts over. */
  const resetDocument = useCallback(
    (doc: GridDocument) => {
      applyDoc(doc);
      historyRef.current = createHistory(doc);
      lastCoalesce.current = null;
      syncHistoryFlags();
    },
    [applyDoc, syncHistoryFlags],
  );

  const updateSettings = useCallback(
    (settings: GridDocument['settings']) => {
      settingsRef.current = settings;
      commit('settings');
    },
    [commit],
  );

  return {
    nodes,
    edges,
    nodesRef,
    edgesRef,
    onNodesChange,
    onEdgesChange,
    onConnect,
    checkConnection,
    addNode,
    updateNodeData,
    deleteSelected,
    copySelection,
    paste,
    duplicateSelection,
    selectAll,
    selectOnly,
    autoLayout,
    undo: doUndo,
    redo: doRedo,
    canUndo: historyState.canUndo,
    canRedo: historyState.canRedo,
    resetDocument,
    currentDocument,
    settings: settingsRef.current,
    updateSettings,
  };
}

export type GridEditor = ReturnType<typeof useGridEditor>;
