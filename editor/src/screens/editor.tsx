/**
 * The grid editor: palette, canvas, settings/inspector/versions side panel, toolbar with autosave
 * state, publish, run with the live overlay, diff view.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { ReactFlowProvider, SelectionMode, useReactFlow, type Connection, type IsValidConnection } from '@xyflow/react';
import type { GridDocument } from '@gridflow/runtime/document';
import { api, ApiError, problemsFromDetails } from '../api/client.js';
import type { Grid, GridProblem, NodeTypeInfo, WebhookInfo } from '../api/types.js';
import { useNodeTypes, useSession } from '../session.js';
import { useAsync } from '../components/use-async.js';
import { ErrorBox, Loading, Modal, errorMessage } from '../components/ui.js';
import { GridCanvas, LARGE_GRID, initialViewportFor, useFitAll } from '../canvas/grid-canvas.js';
import { OverlayContext, OverlayStore, type NodeOverlay } from '../canvas/overlay-store.js';
import { useGridEditor } from '../canvas/use-grid-editor.js';
import { edgeClass } from '../canvas/edge-style.js';
import type { FlowEdge } from '../canvas/mapping.js';
import { ReadOnlyCanvas } from '../canvas/read-only-canvas.js';
import { Autosaver, initialSaveState, type SaveState } from '../lib/autosave.js';
import { CLIPBOARD_KIND, parseFragment, type Fragment } from '../lib/clipboard.js';
import { takenEdgeIds } from '../lib/live-status.js';
import { Palette, DND_TYPE } from '../components/palette.js';
import { SettingsPanel } from '../components/settings-panel.js';
import { HelpPanel } from '../components/help-panel.js';
import { VersionsPanel, type DiffView } from '../components/versions-panel.js';
import { RunBar, RunDialog, StepInspector, Timeline, useLiveRun } from '../components/run-panel.js';
import { WebhookDetails } from '../components/webhook-details.js';
import { href, navigate } from '../router.js';

export function EditorScreen({ gridId, executionId }: { gridId: string; executionId: string | null }) {
  const grid = useAsync(() => api.getGrid(gridId), [gridId]);
  const types = useNodeTypes();
  if ((grid.loading && !grid.data) || (types.loading && types.list.length === 0)) return <Loading what="Opening grid…" testId="editor-loading" />;
  if (grid.error) return <ErrorBox error={grid.error} onRetry={grid.reload} testId="editor-error" />;
  if (!grid.data) return null;
  return (
    <ReactFlowProvider>
      <Editor key={grid.data.id} initial={grid.data} initialExecutionId={executionId} />
    </ReactFlowProvider>
  );
}

const CLIPBOARD_STORAGE = 'gridflow.clipboard';
const isEditable = (t: EventTarget | null) => {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT' || el.isContentEditable || !!el.closest?.('.cm-editor'));
};

function Editor({ initial, initialExecutionId }: { initial: Grid; initialExecutionId: string | null }) {
  const initialViewport = useMemo(() => initialViewportFor(initial.document.nodes), [initial.document]);
  const types = useNodeTypes();
  const { workspace } = useSession();
  const readOnly = workspace?.role === 'viewer' || workspace?.role === 'approver';
  const rf = useReactFlow();
  const fitAll = useFitAll();
  const byTypeRef = useRef(types.byType);
  byTypeRef.current = types.byType;
  const typeOf = useCallback((t: string) => byTypeRef.current.get(t), []);

  const [meta, setMeta] = useState({ name: initial.name, publishedVersion: initial.publishedVersion, status: initial.status });
  const nameRef = useRef(initial.name);
  const [problems, setProblems] = useState<GridProblem[]>(initial.problems);
  const [saveState, setSaveState] = useState<SaveState>(initialSaveState(initial.draftVersion));
  const [panel, setPanel] = useState<'versions' | 'webhook' | null>(null);
  const [help, setHelp] = useState(false);
  const [publishing, setPublishing] = useState(false);
  const [runDialog, setRunDialog] = useState(false);
  const [executionId, setExecutionId] = useState<string | null>(initialExecutionId);
  const [diff, setDiff] = useState<DiffView | null>(null);
  const [diffNode, setDiffNode] = useState<string | null>(null);
  const [snap, setSnap] = useState(true);
  const [boxSelect, setBoxSelect] = useState(false);
  const [toast, setToast] = useState<string | null>(null);
  const [versionsKey, setVersionsKey] = useState(0);
  const [webhooks, setWebhooks] = useState<WebhookInfo[]>([]);
  const [sideTab, setSideTab] = useState<'settings' | 'inspector'>('settings');
  const [setup, setSetup] = useState<{ label: string; nodeId?: string; done?: boolean }[] | null>(() => {
    try {
      const raw = sessionStorage.getItem(`gridflow.setup.${initial.id}`);
      return raw ? (JSON.parse(raw) as { label: string; nodeId?: string }[]) : null;
    } catch {
      return null;
    }
  });
  const lastPointer = useRef<{ x: number; y: number } | null>(null);
  const wrapper = useRef<HTMLDivElement>(null);

  const showToast = useCallback((msg: string) => {
    setToast(msg);
    window.setTimeout(() => setToast((t) => (t === msg ? null : t)), 3500);
  }, []);

  // ---------------------------------------------------------------- autosave
  const autosaver = useMemo(
    () =>
      new Autosaver<GridDocument>(initial.draftVersion, {
        save: async (doc, draftVersion) => {
          try {
            const g = await api.saveGrid(initial.id, draftVersion, { name: nameRef.current, document: doc });
            setProblems(g.problems);
            return { draftVersion: g.draftVersion };
          } catch (e) {
            if (e instanceof ApiError && e.status === 400 && e.details.length) setProblems(problemsFromDetails(e.details, doc));
            throw e;
          }
        },
        onChange: setSaveState,
      }),
    [initial.id, initial.draftVersion],
  );
  useEffect(() => () => autosaver.dispose(), [autosaver]);
  const editor = useGridEditor(initial.document, { typeOf, onEdit: (doc) => autosaver.edit(doc), readOnly });
  const flush = useCallback(() => autosaver.flush(), [autosaver]);

  // Warn before leaving with unsaved changes.
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      if (saveState.status === 'dirty' || saveState.status === 'saving' || saveState.status === 'conflict') e.preventDefault();
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [saveState.status]);

  const reloadFromServer = useCallback(async () => {
    const g = await api.getGrid(initial.id);
    editor.resetDocument(g.document);
    autosaver.loaded(g.draftVersion);
    nameRef.current = g.name;
    setMeta({ name: g.name, publishedVersion: g.publishedVersion, status: g.status });
    setProblems(g.problems);
    return g;
  }, [initial.id, editor, autosaver]);

  const overwriteServer = useCallback(async () => {
    const g = await api.getGrid(initial.id);
    await autosaver.overwrite(g.draftVersion);
  }, [initial.id, autosaver]);

  useEffect(() => {
    if (meta.publishedVersion)
      api.webhooks(initial.id).then(
        (w) => setWebhooks((prev) => w.map((x) => ({ ...x, secret: prev.find((p) => p.nodeId === x.nodeId)?.secret ?? x.secret ?? null }))),
        () => {},
      );
  }, [initial.id, meta.publishedVersion]);

  // ---------------------------------------------------------------- live run
  const live = useLiveRun(executionId);
  useEffect(() => {
    if (executionId) setSideTab('inspector');
  }, [executionId]);
  const liveOutputs = useMemo(() => {
    const out: Record<string, unknown> = {};
    for (const s of live.detail?.steps ?? []) if (s.output !== null && s.output !== undefined) out[s.nodeId] = s.output;
    for (const [id, n] of Object.entries(live.state.nodes)) if (out[id] === undefined && n.output !== undefined) out[id] = n.output;
    return out;
  }, [live.detail, live.state.nodes]);

  // ---------------------------------------------------------------- overlays
  const overlayStore = useMemo(() => new OverlayStore(), []);
  useEffect(() => {
    const m = new Map<string, NodeOverlay>();
    const put = (id: string, patch: NodeOverlay) => m.set(id, { ...(m.get(id) ?? {}), ...patch });
    if (executionId) for (const [id, n] of Object.entries(live.state.nodes)) put(id, { status: n.status, attempt: n.attempt });
    for (const p of problems) if (p.nodeId) put(p.nodeId, { problems: [...(m.get(p.nodeId)?.problems ?? []), p.path ? `${p.path.replace(/^config\./, '')}: ${p.message}` : p.message] });
    overlayStore.setAll(m);
  }, [overlayStore, live.state.nodes, executionId, problems]);

  const edgeProblems = useMemo(() => {
    const m = new Map<string, string>();
    for (const p of problems) if (p.edgeId) m.set(p.edgeId, p.message);
    return m;
  }, [problems]);
  const taken = useMemo(() => (executionId ? takenEdgeIds(live.state, editor.edges) : new Set<string>()), [executionId, live.state, editor.edges]);
  const edges = useMemo(
    () =>
      editor.edges.map((e) => {
        const problem = edgeProblems.get(e.id);
        const isTaken = taken.has(e.id);
        const cls = [edgeClass(e), isTaken ? 'edge-taken' : '', problem ? 'edge-problem' : ''].filter(Boolean).join(' ');
        return {
          ...e,
          className: cls,
          animated: isTaken,
          ...(problem ? { label: `⚠ ${problem}`, labelStyle: { fill: '#b42318' } } : e.data?.kind === 'error' ? { label: 'on error' } : {}),
          ...(readOnly ? { deletable: false } : {}),
        } satisfies FlowEdge;
      }),
    [editor.edges, edgeProblems, taken, readOnly],
  );

  // ---------------------------------------------------------------- add / drop
  const pointerFlowPosition = useCallback(() => {
    if (lastPointer.current) return rf.screenToFlowPosition(lastPointer.current);
    const r = wrapper.current?.getBoundingClientRect();
    if (!r) return { x: 0, y: 0 };
    return rf.screenToFlowPosition({ x: r.left + r.width / 2, y: r.top + r.height / 2 });
  }, [rf]);

  const addAt = useCallback(
    (t: NodeTypeInfo, pos: { x: number; y: number }) => {
      if (readOnly) return;
      editor.addNode(t, { x: pos.x - 110, y: pos.y - 30 });
    },
    [editor, readOnly],
  );

  const onDrop = useCallback(
    (e: DragEvent) => {
      e.preventDefault();
      const type = e.dataTransfer.getData(DND_TYPE) || e.dataTransfer.getData('text/plain');
      const t = typeOf(type);
      if (!t) return;
      addAt(t, rf.screenToFlowPosition({ x: e.clientX, y: e.clientY }));
    },
    [addAt, rf, typeOf],
  );

  // ---------------------------------------------------------------- connections
  const connectHint = useRef<string | null>(null);
  const [hint, setHint] = useState<string | null>(null);
  const isValidConnection: IsValidConnection<FlowEdge> = useCallback(
    (c) => {
      const check = editor.checkConnection(c as Connection);
      const reason = check.ok ? null : (check.reason ?? 'Not allowed');
      if (reason !== connectHint.current) {
        connectHint.current = reason;
        requestAnimationFrame(() => setHint(reason));
      }
      return check.ok;
    },
    [editor],
  );
  const onConnect = useCallback(
    (c: Connection) => {
      const r = editor.onConnect(c);
      if (!r.ok && r.reason) showToast(`Cannot connect: ${r.reason}`);
    },
    [editor, showToast],
  );

  // ---------------------------------------------------------------- clipboard
  const copy = useCallback(
    (cut = false): Fragment | null => {
      const f = editor.copySelection();
      if (!f) return null;
      const text = JSON.stringify(f);
      try {
        localStorage.setItem(CLIPBOARD_STORAGE, text);
      } catch {
        /* storage full or blocked */
      }
      void navigator.clipboard?.writeText(text).catch(() => {});
      if (cut) editor.deleteSelected();
      showToast(`${cut ? 'Cut' : 'Copied'} ${f.nodes.length} node${f.nodes.length === 1 ? '' : 's'}`);
      return f;
    },
    [editor, showToast],
  );
  const pasteText = useCallback(
    (text: string | null) => {
      if (readOnly) return;
      const f = text ? parseFragment(text) : null;
      if (!f) return;
      editor.paste(f, lastPointer.current ? pointerFlowPosition() : undefined);
    },
    [editor, pointerFlowPosition, readOnly],
  );
  const pasteFromButton = useCallback(async () => {
    let text: string | null = null;
    try {
      text = (await navigator.clipboard?.readText()) ?? null;
    } catch {
      /* permission denied: fall back to our own copy */
    }
    if (!text || !parseFragment(text)) text = localStorage.getItem(CLIPBOARD_STORAGE);
    pasteText(text);
  }, [pasteText]);

  useEffect(() => {
    const onCopy = (e: ClipboardEvent) => {
      if (isEditable(e.target) || diff) return;
      const f = editor.copySelection();
      if (!f) return;
      e.preventDefault();
      const text = JSON.stringify(f);
      e.clipboardData?.setData('text/plain', text);
      try {
        localStorage.setItem(CLIPBOARD_STORAGE, text);
      } catch {
        /* ignore */
      }
      showToast(`Copied ${f.nodes.length} node${f.nodes.length === 1 ? '' : 's'}`);
    };
    const onPaste = (e: ClipboardEvent) => {
      if (isEditable(e.target) || diff) return;
      const text = e.clipboardData?.getData('text/plain') ?? '';
      if (!text.includes(CLIPBOARD_KIND)) return;
      e.preventDefault();
      pasteText(text);
    };
    document.addEventListener('copy', onCopy);
    document.addEventListener('paste', onPaste);
    return () => {
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('paste', onPaste);
    };
  }, [editor, pasteText, showToast, diff]);

  // ---------------------------------------------------------------- shortcuts
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isEditable(e.target) || diff) return;
      const mod = e.metaKey || e.ctrlKey;
      const k = e.key.toLowerCase();
      if (mod && k === 'z' && !e.shiftKey) {
        e.preventDefault();
        editor.undo();
      } else if ((mod && k === 'z' && e.shiftKey) || (mod && k === 'y')) {
        e.preventDefault();
        editor.redo();
      } else if (mod && k === 'd') {
        e.preventDefault();
        if (!readOnly) editor.duplicateSelection();
      } else if (mod && k === 'a') {
        e.preventDefault();
        editor.selectAll();
      } else if (mod && k === 'x') {
        if (!readOnly) copy(true);
      } else if (mod && k === 's') {
        e.preventDefault();
        void flush();
      } else if (!mod && e.shiftKey && k === 'l') {
        if (!readOnly) editor.autoLayout();
        requestAnimationFrame(() => void fitAll({ padding: 0.2, duration: 200 }));
      } else if (!mod && e.shiftKey && k === 'f') {
        void fitAll({ padding: 0.2, duration: 200 });
      } else if (e.key === '?') {
        setHelp(true);
      } else if (e.key === 'Escape') {
        editor.selectOnly(null);
        setPanel(null);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [editor, rf, fitAll, flush, copy, readOnly, diff]);

  // ---------------------------------------------------------------- selection → side panel
  const selected = useMemo(() => editor.nodes.filter((n) => n.selected), [editor.nodes]);
  const selectedNode = selected.length === 1 ? selected[0]! : null;
  /** Selects a node and centres it (problem list, setup checklist, timeline): it may be off screen. */
  const focusNode = useCallback(
    (id: string) => {
      editor.selectOnly(id);
      const n = editor.nodesRef.current.find((x) => x.id === id);
      if (n) void rf.setCenter(n.position.x + (n.measured?.width ?? 220) / 2, n.position.y + (n.measured?.height ?? 80) / 2, { zoom: rf.getZoom(), duration: 200 });
    },
    [editor, rf],
  );
  const triggerNode = useMemo(() => editor.nodes.find((n) => typeOf(n.data.type)?.isTrigger), [editor.nodes, typeOf]);
  const webhookTriggers = useMemo(() => editor.nodes.filter((n) => n.data.config.mode === 'webhook' || /webhook/i.test(n.data.type)), [editor.nodes]);

  // ---------------------------------------------------------------- actions
  const rename = (name: string) => {
    nameRef.current = name;
    setMeta((m) => ({ ...m, name }));
    if (name.trim()) autosaver.edit(editor.currentDocument());
  };

  const exportJson = async () => {
    let data: unknown;
    try {
      await flush();
      data = await api.exportGrid(initial.id);
    } catch {
      data = { format: 'gridflow.grid', formatVersion: 1, name: meta.name, document: editor.currentDocument() };
    }
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${meta.name.toLowerCase().replace(/[^a-z0-9]+/g, '-') || 'grid'}.gridflow.json`;
    a.click();
    URL.revokeObjectURL(a.href);
  };

  const startRun = (id: string) => {
    setRunDialog(false);
    setExecutionId(id);
    history.replaceState(null, '', `#/grids/${initial.id}?execution=${id}`);
  };

  const closeRun = () => {
    setExecutionId(null);
    setSideTab('settings');
    history.replaceState(null, '', `#/grids/${initial.id}`);
  };

  const cancelRun = async () => {
    if (!executionId) return;
    try {
      await api.cancel(executionId);
      void live.refresh();
    } catch (e) {
      showToast(errorMessage(e));
    }
  };
  const retryRun = async () => {
    if (!executionId) return;
    try {
      const r = await api.retry(executionId);
      startRun(r.executionId);
    } catch (e) {
      showToast(errorMessage(e));
    }
  };

  // ---------------------------------------------------------------- diff view
  const diffOverlays = useMemo(() => {
    if (!diff) return undefined;
    const m = new Map<string, NodeOverlay>();
    for (const [id, mark] of Object.entries(diff.result.nodes)) m.set(id, { diff: mark });
    return m;
  }, [diff]);

  const saveLabel: Record<SaveState['status'], string> = {
    saved: saveState.lastSavedAt ? 'All changes saved' : 'Saved',
    dirty: 'Unsaved changes…',
    saving: 'Saving…',
    conflict: 'Conflict: not saved',
    error: 'Not saved',
  };

  const nodeCount = editor.nodes.length;

  return (
    <OverlayContext.Provider value={overlayStore}>
      <div className="editor" data-testid="editor">
        <div className="toolbar" role="toolbar" aria-label="Grid tools">
          <a href={href('/grids')} className="icon-btn" aria-label="Back to grids" data-testid="back-to-grids">
            ←
          </a>
          <input className="grid-name" aria-label="Grid name" value={meta.name} onChange={(e) => rename(e.target.value)} onKeyDown={(e) => (e.key === 'Enter' || e.key === 'Escape') && e.currentTarget.blur()} disabled={readOnly} data-testid="grid-name" />
          <span className={`save-status save-${saveState.status}`} data-testid="save-status" data-status={saveState.status} role="status" title={saveState.error ?? ''}>
            {saveLabel[saveState.status]}
          </span>
          {saveState.status === 'error' && (
            <button type="button" className="small-btn" onClick={() => autosaver.retry()} data-testid="save-retry">
              Retry save
            </button>
          )}
          <span className="sep" />
          <button type="button" className="icon-btn" title="Undo (Ctrl+Z)" aria-label="Undo" disabled={!editor.canUndo || readOnly} onClick={editor.undo} data-testid="toolbar-undo">
            ↶
          </button>
          <button type="button" className="icon-btn" title="Redo (Ctrl+Shift+Z)" aria-label="Redo" disabled={!editor.canRedo || readOnly} onClick={editor.redo} data-testid="toolbar-redo">
            ↷
          </button>
          <button type="button" className="small-btn" title="Copy (Ctrl+C)" aria-label="Copy selection" disabled={selected.length === 0} onClick={() => copy()} data-testid="toolbar-copy">
            Copy
          </button>
          <button type="button" className="small-btn" title="Paste (Ctrl+V)" aria-label="Paste" disabled={readOnly} onClick={() => void pasteFromButton()} data-testid="toolbar-paste">
            Paste
          </button>
          <button type="button" className="small-btn" title="Duplicate (Ctrl+D)" aria-label="Duplicate selection" disabled={selected.length === 0 || readOnly} onClick={editor.duplicateSelection} data-testid="toolbar-duplicate">
            Duplicate
          </button>
          <button type="button" className="small-btn" title="Delete (Del)" aria-label="Delete selection" disabled={readOnly} onClick={editor.deleteSelected} data-testid="toolbar-delete">
            Delete
          </button>
          <span className="sep" />
          <button
            type="button"
            className="small-btn"
            title="Auto-layout (Shift+L)"
            disabled={readOnly || nodeCount === 0}
            onClick={() => {
              editor.autoLayout();
              requestAnimationFrame(() => void fitAll({ padding: 0.2, duration: 200 }));
            }}
            data-testid="toolbar-layout"
          >
            Layout
          </button>
          <button type="button" className="small-btn" title="Fit view (Shift+F)" onClick={() => void fitAll({ padding: 0.2, duration: 200 })} data-testid="toolbar-fit">
            Fit
          </button>
          <label className="toggle small" title="Snap nodes to a 20px grid">
            <input type="checkbox" checked={snap} onChange={(e) => setSnap(e.target.checked)} data-testid="toolbar-snap" /> Snap
          </label>
          <label className="toggle small" title="Drag on the canvas draws a selection box instead of panning">
            <input type="checkbox" checked={boxSelect} onChange={(e) => setBoxSelect(e.target.checked)} data-testid="toolbar-box-select" /> Box
          </label>
          <span className="grow" />
          <button type="button" className="small-btn" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts" data-testid="toolbar-help">
            ?
          </button>
          <a className="small-btn" href={href(`/grids/${initial.id}/executions`)} data-testid="toolbar-executions">
            Runs
          </a>
          {webhookTriggers.length > 0 && (
            <button type="button" className="small-btn" onClick={() => setPanel(panel === 'webhook' ? null : 'webhook')} data-testid="toolbar-webhook">
              Webhook
            </button>
          )}
          <button type="button" className="small-btn" onClick={() => void exportJson()} data-testid="toolbar-export">
            Export
          </button>
          <button type="button" className="small-btn" onClick={() => setPanel(panel === 'versions' ? null : 'versions')} aria-pressed={panel === 'versions'} data-testid="toolbar-versions">
            Versions{meta.publishedVersion ? ` (v${meta.publishedVersion})` : ''}
          </button>
          <button type="button" className="small-btn" disabled={readOnly} onClick={() => setPublishing(true)} data-testid="toolbar-publish">
            Publish
          </button>
          <button type="button" className="primary" disabled={readOnly} onClick={() => setRunDialog(true)} data-testid="toolbar-run">
            ▶ Run
          </button>
        </div>

        {saveState.status === 'conflict' && (
          <div className="banner banner-warn" role="alert" data-testid="conflict-banner">
            <span>Someone else saved a newer draft of this grid. Your latest changes are not saved.</span>
            <button type="button" className="small-btn" onClick={() => void reloadFromServer()} data-testid="conflict-reload">
              Load their version (discard mine)
            </button>
            <button type="button" className="small-btn danger" onClick={() => void overwriteServer()} data-testid="conflict-overwrite">
              Keep mine (overwrite theirs)
            </button>
          </div>
        )}
        {readOnly && <div className="banner">You can view this grid; your role ({workspace?.role}) cannot edit it.</div>}
        {problems.length > 0 && !diff && (
          <details className="banner banner-problems" data-testid="problems-banner">
            <summary>
              {problems.length} problem{problems.length === 1 ? '' : 's'} to fix before publishing
            </summary>
            <ul>
              {problems.map((p, i) => {
                const n = p.nodeId ? editor.nodes.find((x) => x.id === p.nodeId) : undefined;
                return (
                  <li key={i}>
                    {n ? (
                      <button type="button" className="link" onClick={() => focusNode(n.id)}>
                        {n.data.name}
                      </button>
                    ) : p.edgeId ? (
                      'Connection'
                    ) : (
                      'Grid'
                    )}
                    {p.path ? ` · ${p.path.replace(/^config\./, '')}` : ''}: {p.message}
                  </li>
                );
              })}
            </ul>
          </details>
        )}
        {setup && setup.length > 0 && !diff && (
          <div className="banner banner-setup" data-testid="setup-checklist">
            <b>Setup checklist</b>
            <ul>
              {setup.map((s, i) => (
                <li key={i}>
                  <label>
                    <input
                      type="checkbox"
                      checked={!!s.done}
                      onChange={(e) => {
                        const next = setup.map((x, j) => (j === i ? { ...x, done: e.target.checked } : x));
                        setSetup(next);
                        sessionStorage.setItem(`gridflow.setup.${initial.id}`, JSON.stringify(next));
                      }}
                    />{' '}
                    {s.nodeId ? (
                      <button type="button" className="link" onClick={() => focusNode(s.nodeId!)}>
                        {s.label}
                      </button>
                    ) : (
                      s.label
                    )}
                  </label>
                </li>
              ))}
            </ul>
            <button
              type="button"
              className="icon-btn"
              aria-label="Hide setup checklist"
              onClick={() => {
                setSetup(null);
                sessionStorage.removeItem(`gridflow.setup.${initial.id}`);
              }}
            >
              ✕
            </button>
          </div>
        )}
        {executionId && <RunBar state={live.state} nodeCount={nodeCount} onCancel={() => void cancelRun()} onRetry={() => void retryRun()} onClose={closeRun} error={live.error} />}
        {diff && (
          <div className="banner banner-diff" data-testid="diff-banner">
            <b>
              Comparing {diff.before} → {diff.after}
            </b>
            <span className="legend diff-added" data-testid="diff-count-added">
              {diff.result.counts.added} added
            </span>
            <span className="legend diff-removed" data-testid="diff-count-removed">
              {diff.result.counts.removed} removed
            </span>
            <span className="legend diff-changed" data-testid="diff-count-changed">
              {diff.result.counts.changed} changed
            </span>
            <button type="button" className="small-btn" onClick={() => setDiff(null)} data-testid="diff-close">
              Close diff
            </button>
          </div>
        )}

        <div className="editor-body">
          {!diff && !readOnly && <Palette types={types.list} loading={types.loading} error={types.error} onRetry={types.reload} onAdd={(t) => addAt(t, pointerFlowPosition())} />}
          <div
            className="canvas-wrap"
            ref={wrapper}
            onMouseMove={(e) => {
              lastPointer.current = { x: e.clientX, y: e.clientY };
            }}
            onMouseLeave={() => {
              /* keep the last position: "click to add at the cursor" means where the mouse last was on the canvas */
            }}
            data-testid="canvas"
          >
            {diff ? (
              <ReadOnlyCanvas document={diff.result.union} overlays={diffOverlays} edgeMarks={diff.result.edges} onNodeClick={setDiffNode} testId="diff-canvas" />
            ) : (
              <GridCanvas
                nodes={editor.nodes}
                edges={edges}
                onNodesChange={editor.onNodesChange}
                onEdgesChange={editor.onEdgesChange}
                onConnect={onConnect}
                onConnectEnd={() => {
                  connectHint.current = null;
                  setHint(null);
                }}
                isValidConnection={isValidConnection}
                onDrop={onDrop}
                onDragOver={(e) => {
                  e.preventDefault();
                  e.dataTransfer.dropEffect = 'move';
                }}
                onPaneClick={() => setPanel((p) => (p === 'webhook' ? null : p))}
                snapToGrid={snap}
                snapGrid={[20, 20]}
                fitView={initial.document.nodes.length > 0 && initial.document.nodes.length <= LARGE_GRID}
                defaultViewport={initialViewport}
                fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
                deleteKeyCode={readOnly ? null : ['Delete', 'Backspace']}
                multiSelectionKeyCode={['Meta', 'Control', 'Shift']}
                selectionKeyCode="Shift"
                selectionOnDrag={boxSelect}
                panOnDrag={boxSelect ? [1, 2] : true}
                selectionMode={SelectionMode.Partial}
                nodesConnectable={!readOnly}
                nodesDraggable={!readOnly}
                onHelp={() => setHelp(true)}
              />
            )}
            {nodeCount === 0 && !diff && (
              <div className="canvas-empty" data-testid="canvas-empty">
                <strong>Start your grid</strong>
                <span>Drag a trigger from the palette onto the canvas, or click it to add it here.</span>
              </div>
            )}
            {hint && (
              <div className="canvas-hint" role="status" data-testid="connect-hint">
                ⛔ {hint}
              </div>
            )}
            {toast && (
              <div className="toast" role="status" data-testid="toast">
                {toast}
              </div>
            )}
          </div>

          {panel === 'versions' ? (
            <VersionsPanel
              gridId={initial.id}
              currentDocument={editor.currentDocument}
              refreshKey={versionsKey}
              onCompare={(d) => {
                setDiff(d);
                setDiffNode(null);
                setPanel(null);
              }}
              onRestored={(n) => {
                setDiff(null);
                void reloadFromServer().then(() => showToast(`Draft restored from v${n}`));
              }}
              onClose={() => setPanel(null)}
              beforeRestore={flush}
            />
          ) : panel === 'webhook' ? (
            <aside className="side-panel" aria-label="Webhook details" data-testid="webhook-panel">
              <header className="side-head">
                <h2>Webhooks</h2>
                <button type="button" className="icon-btn" aria-label="Close" onClick={() => setPanel(null)}>
                  ✕
                </button>
              </header>
              {!meta.publishedVersion && <p className="muted small">Publish the grid to activate its webhook URL.</p>}
              {webhookTriggers.map((n) => {
                const info = webhooks.find((w) => w.nodeId === n.id);
                return (
                  <div key={n.id}>
                    <h3>{n.data.name}</h3>
                    <WebhookDetails path={info?.path ?? String(n.data.config.path ?? '')} url={info?.url} secret={info?.secret ?? null} signed={info?.signed ?? n.data.config.auth === 'hmac'} />
                    {meta.publishedVersion && n.data.config.auth === 'hmac' && (
                      <button
                        type="button"
                        className="small-btn"
                        onClick={() =>
                          void api.rotateWebhookSecret(initial.id, n.id).then(
                            (r) => setWebhooks((ws) => ws.map((w) => (w.nodeId === r.nodeId ? { ...w, secret: r.secret, signed: true } : w))),
                            (e: unknown) => showToast(errorMessage(e)),
                          )
                        }
                        data-testid="webhook-rotate"
                      >
                        New secret
                      </button>
                    )}
                  </div>
                );
              })}
            </aside>
          ) : diff ? (
            <DiffDetails diff={diff} nodeId={diffNode} />
          ) : selectedNode ? (
            executionId && sideTab === 'inspector' ? (
              <div className="side-stack">
                <div className="tabs side-tabs" role="tablist">
                  <button type="button" role="tab" aria-selected onClick={() => setSideTab('inspector')} data-testid="side-tab-inspector">
                    Run data
                  </button>
                  <button type="button" role="tab" aria-selected={false} onClick={() => setSideTab('settings')} data-testid="side-tab-settings">
                    Settings
                  </button>
                </div>
                <StepInspector key={selectedNode.id} nodeId={selectedNode.id} nodeName={selectedNode.data.name} state={live.state} detail={live.detail} onClose={() => editor.selectOnly(null)} />
              </div>
            ) : (
              <div className="side-stack">
                {executionId && (
                  <div className="tabs side-tabs" role="tablist">
                    <button type="button" role="tab" aria-selected={false} onClick={() => setSideTab('inspector')} data-testid="side-tab-inspector">
                      Run data
                    </button>
                    <button type="button" role="tab" aria-selected onClick={() => setSideTab('settings')} data-testid="side-tab-settings">
                      Settings
                    </button>
                  </div>
                )}
                <SettingsPanel
                  node={selectedNode}
                  nodeType={typeOf(selectedNode.data.type)}
                  nodes={editor.nodes}
                  edges={editor.edges}
                  problems={problems}
                  liveOutputs={liveOutputs}
                  gridId={initial.id}
                  webhook={webhooks.find((w) => w.nodeId === selectedNode.id) ?? null}
                  onChange={(patch, key) => editor.updateNodeData(selectedNode.id, patch, key)}
                  onClose={() => editor.selectOnly(null)}
                  beforeTest={flush}
                  readOnly={readOnly}
                />
              </div>
            )
          ) : selected.length > 1 ? (
            <aside className="side-panel" data-testid="multi-selection">
              <h2>{selected.length} nodes selected</h2>
              <p className="muted small">Copy, duplicate or delete them together; drag one to move them all.</p>
            </aside>
          ) : null}
        </div>

        {executionId && (
          <div className="dock" data-testid="run-dock">
            <Timeline state={live.state} nodes={editor.nodes} onSelect={focusNode} />
          </div>
        )}

        {help && <HelpPanel onClose={() => setHelp(false)} />}
        {publishing && (
          <PublishDialog
            gridId={initial.id}
            beforePublish={flush}
            onClose={() => setPublishing(false)}
            onPublished={(v, hooks) => {
              setPublishing(false);
              setMeta((m) => ({ ...m, publishedVersion: v, status: 'published' }));
              setVersionsKey((k) => k + 1);
              if (hooks.length) setWebhooks(hooks);
              showToast(`Published version ${v}`);
            }}
            onProblems={(details) => setProblems(problemsFromDetails(details, editor.currentDocument()))}
          />
        )}
        {runDialog && (
          <RunDialog gridId={initial.id} trigger={triggerNode} hasPublished={!!meta.publishedVersion} onStarted={startRun} onClose={() => setRunDialog(false)} beforeRun={flush} />
        )}
      </div>
    </OverlayContext.Provider>
  );
}

function DiffDetails({ diff, nodeId }: { diff: DiffView; nodeId: string | null }) {
  const node = nodeId ? diff.result.union.nodes.find((n) => n.id === nodeId) : null;
  const fields = nodeId ? (diff.result.changedFields[nodeId] ?? []) : [];
  return (
    <aside className="side-panel" aria-label="Change details" data-testid="diff-details">
      <h2>Changes</h2>
      {!node ? (
        <p className="muted small">Click a highlighted node to see what changed. Green: added, red: removed, amber: changed.</p>
      ) : (
        <>
          <h3>
            {node.name} <span className={`badge diffbadge-${diff.result.nodes[node.id]}`}>{diff.result.nodes[node.id]}</span>
          </h3>
          {fields.length === 0 ? (
            <p className="muted small">No field-level changes.</p>
          ) : (
            <table className="table small">
              <thead>
                <tr>
                  <th>Field</th>
                  <th>{diff.before}</th>
                  <th>{diff.after}</th>
                </tr>
              </thead>
              <tbody>
                {fields.map((f) => (
                  <tr key={f.path} data-testid="diff-field">
                    <td>{f.path}</td>
                    <td className="mono removed">{JSON.stringify(f.before) ?? '—'}</td>
                    <td className="mono added">{JSON.stringify(f.after) ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </aside>
  );
}

function PublishDialog({
  gridId,
  beforePublish,
  onClose,
  onPublished,
  onProblems,
}: {
  gridId: string;
  beforePublish: () => Promise<unknown>;
  onClose: () => void;
  onPublished: (version: number, webhooks: WebhookInfo[]) => void;
  onProblems: (details: { path: string; message: string }[]) => void;
}) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function publish() {
    setBusy(true);
    setError(null);
    try {
      await beforePublish();
      const r = await api.publish(gridId, note);
      onPublished(r.version.version, r.webhooks);
    } catch (e) {
      if (e instanceof ApiError && e.details.length) onProblems(e.details);
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal title="Publish this grid" onClose={onClose} testId="publish-dialog">
      <p className="muted small">Publishing freezes the current draft as a new version. Webhooks, schedules and “Run” use the latest published version.</p>
      <div className="field">
        <label htmlFor="publish-note">What changed?</label>
        <textarea id="publish-note" rows={3} value={note} onChange={(e) => setNote(e.target.value)} placeholder="e.g. Added approval before publishing" data-testid="publish-note" />
      </div>
      {error && (
        <div className="state state-error" role="alert" data-testid="publish-error">
          {error}
        </div>
      )}
      <div className="row end">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={busy} onClick={() => void publish()} data-testid="publish-confirm">
          {busy ? 'Publishing…' : 'Publish'}
        </button>
      </div>
    </Modal>
  );
}

export { navigate };
