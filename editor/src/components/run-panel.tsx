/** Run and monitor: start dialog, live run hook, progress bar, Gantt timeline, step inspector. */
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { api } from '../api/client.js';
import { subscribeExecution } from '../api/live.js';
import type { Execution, Step } from '../api/types.js';
import { initialLiveState, isFinished, liveReducer, progress, type LiveState } from '../lib/live-status.js';
import type { FlowNode } from '../canvas/mapping.js';
import { ErrorBox, JsonView, Modal, StatusPill, errorMessage, formatDuration } from './ui.js';

// ------------------------------------------------------------------ live run hook

export function useLiveRun(executionId: string | null) {
  const [state, dispatch] = useReducer(liveReducer, initialLiveState);
  const [detail, setDetail] = useState<Execution | null>(null);
  const [error, setError] = useState<unknown>(null);
  const stateRef = useRef(state);
  stateRef.current = state;

  const refresh = useCallback(async () => {
    if (!executionId) return;
    try {
      const ex = await api.execution(executionId);
      setDetail(ex);
      dispatch({ type: 'snapshot', execution: ex });
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [executionId]);

  useEffect(() => {
    dispatch({ type: 'reset', executionId });
    setDetail(null);
    if (!executionId) return;
    void refresh();
    const unsub = subscribeExecution(executionId, {
      onEvent: (event) => dispatch({ type: 'event', event }),
      onSnapshot: (snap) =>
        dispatch({
          type: 'snapshot',
          execution: {
            id: snap.execution.id,
            gridId: snap.execution.gridId,
            gridVersion: null,
            status: snap.execution.status as Execution['status'],
            triggerType: '',
            startedAt: snap.execution.startedAt,
            finishedAt: snap.execution.finishedAt,
            createdAt: snap.execution.startedAt ?? '',
            error: (snap.execution.error ?? null) as Execution['error'],
            lastSeq: snap.seq,
            steps: snap.steps.map((st) => ({
              id: `${st.nodeId}:${st.itemIndex ?? ''}`,
              nodeId: st.nodeId,
              itemIndex: st.itemIndex,
              status: st.status as Step['status'],
              attempt: st.attempt,
              input: undefined,
              output: undefined,
              error: (st.error ?? null) as Step['error'],
              startedAt: st.startedAt,
              finishedAt: st.finishedAt,
              ports: st.ports,
            })),
          },
        }),
    });
    return unsub;
  }, [executionId, refresh]);

  // Poll as a safety net (and to fetch full step input/output) while the run is not finished;
  // the socket drives the overlay between polls.
  useEffect(() => {
    if (!executionId || isFinished(state.runStatus)) return;
    const t = setInterval(() => void refresh(), 1500);
    return () => clearInterval(t);
  }, [executionId, state.runStatus, refresh]);

  // One last fetch when the run finishes, for full outputs.
  const finished = isFinished(state.runStatus);
  useEffect(() => {
    if (finished) void refresh();
  }, [finished, refresh]);

  return { state, detail, error, refresh };
}

// ------------------------------------------------------------------ run dialog

interface InputField {
  name: string;
  label?: string;
  type?: 'string' | 'text' | 'number' | 'boolean' | 'json';
  required?: boolean;
  default?: unknown;
  description?: string;
}

export function RunDialog({
  gridId,
  trigger,
  hasPublished,
  onStarted,
  onClose,
  beforeRun,
}: {
  gridId: string;
  trigger: FlowNode | undefined;
  hasPublished: boolean;
  onStarted: (executionId: string) => void;
  onClose: () => void;
  beforeRun: () => Promise<unknown>;
}) {
  const fields = useMemo(() => {
    const f = trigger?.data.config.fields;
    return Array.isArray(f) ? (f as InputField[]).filter((x) => x && typeof x.name === 'string' && x.name) : [];
  }, [trigger]);
  const [values, setValues] = useState<Record<string, unknown>>(() => Object.fromEntries(fields.map((f) => [f.name, f.default ?? (f.type === 'boolean' ? false : '')])));
  const [json, setJson] = useState('{}');
  const [mode, setMode] = useState<'production' | 'test'>(hasPublished ? 'production' : 'test');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  async function start() {
    setError(null);
    let input: unknown;
    if (fields.length) {
      const fe: Record<string, string> = {};
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        const v = values[f.name];
        if (f.required && (v === '' || v === undefined)) fe[f.name] = `${f.label ?? f.name} is required`;
        else if (f.type === 'number' && v !== '' && v !== undefined) {
          const n = Number(v);
          if (!Number.isFinite(n)) fe[f.name] = `${f.label ?? f.name} must be a number`;
          else out[f.name] = n;
        } else if (f.type === 'json' && typeof v === 'string' && v.trim()) {
          try {
            out[f.name] = JSON.parse(v);
          } catch {
            fe[f.name] = `${f.label ?? f.name} must be valid JSON`;
          }
        } else if (v !== '' && v !== undefined) out[f.name] = v;
      }
      setFieldErrors(fe);
      if (Object.keys(fe).length) return;
      input = out;
    } else {
      try {
        input = json.trim() ? JSON.parse(json) : {};
      } catch (e) {
        setError(`Input is not valid JSON: ${(e as Error).message}`);
        return;
      }
    }
    setBusy(true);
    try {
      await beforeRun();
      const { executionId } = await api.run(gridId, input, mode);
      onStarted(executionId);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title="Run grid" onClose={onClose} testId="run-dialog">
      <fieldset className="radio-row">
        <legend className="small">Which version</legend>
        <label>
          <input type="radio" name="run-mode" checked={mode === 'production'} disabled={!hasPublished} onChange={() => setMode('production')} data-testid="run-mode-production" />
          Latest published version{!hasPublished && ' (publish first)'}
        </label>
        <label>
          <input type="radio" name="run-mode" checked={mode === 'test'} onChange={() => setMode('test')} data-testid="run-mode-test" />
          Test run of the draft
        </label>
      </fieldset>
      {fields.length > 0 ? (
        <div data-testid="run-input-form">
          {fields.map((f) => (
            <div className="field" key={f.name}>
              {f.type === 'boolean' ? (
                <label>
                  <input type="checkbox" checked={values[f.name] === true} onChange={(e) => setValues({ ...values, [f.name]: e.target.checked })} data-testid={`run-input-${f.name}`} />
                  {f.label ?? f.name}
                </label>
              ) : (
                <>
                  <label htmlFor={`run-input-${f.name}`}>
                    {f.label ?? f.name}
                    {f.required && <span className="req"> *</span>}
                  </label>
                  {f.type === 'text' || f.type === 'json' ? (
                    <textarea id={`run-input-${f.name}`} rows={3} value={String(values[f.name] ?? '')} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })} data-testid={`run-input-${f.name}`} />
                  ) : (
                    <input
                      id={`run-input-${f.name}`}
                      inputMode={f.type === 'number' ? 'decimal' : undefined}
                      value={String(values[f.name] ?? '')}
                      onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
                      data-testid={`run-input-${f.name}`}
                    />
                  )}
                </>
              )}
              {f.description && <small className="muted">{f.description}</small>}
              {fieldErrors[f.name] && (
                <small className="field-error" role="alert">
                  {fieldErrors[f.name]}
                </small>
              )}
            </div>
          ))}
        </div>
      ) : (
        <div className="field">
          <label htmlFor="run-input-json">Input (JSON, available as {'{{ trigger }}'})</label>
          <textarea id="run-input-json" className="mono" rows={6} value={json} onChange={(e) => setJson(e.target.value)} data-testid="run-input-json" />
        </div>
      )}
      {error && (
        <div className="state state-error" role="alert" data-testid="run-error">
          {error}
        </div>
      )}
      <div className="row end">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={() => void start()} disabled={busy} data-testid="run-start">
          {busy ? 'Starting…' : '▶ Start run'}
        </button>
      </div>
    </Modal>
  );
}

// ------------------------------------------------------------------ progress bar

export function RunBar({
  state,
  nodeCount,
  onCancel,
  onRetry,
  onClose,
  error,
}: {
  state: LiveState;
  nodeCount: number;
  onCancel: () => void;
  onRetry: () => void;
  onClose: () => void;
  error: unknown;
}) {
  const [now, setNow] = useState(Date.now());
  const finished = isFinished(state.runStatus);
  useEffect(() => {
    if (finished) return;
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [finished]);
  const start = state.startedAt ? new Date(state.startedAt).getTime() : null;
  const end = state.finishedAt ? new Date(state.finishedAt).getTime() : now;
  const pct = Math.round(progress(state, nodeCount) * 100);
  return (
    <div className={`runbar runbar-${state.runStatus ?? 'pending'}`} role="region" aria-label="Run progress" data-testid="run-bar">
      <StatusPill status={state.runStatus ?? 'pending'} testId="run-status" />
      <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label="Run progress" data-testid="run-progress">
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="small" data-testid="run-elapsed">
        {start ? formatDuration(Math.max(0, end - start)) : '—'}
      </span>
      {state.error && (
        <span className="small field-error" title={state.error.message} data-testid="run-error-message">
          {state.error.message}
        </span>
      )}
      {error !== null && <span className="small field-error">{errorMessage(error)}</span>}
      {!finished && (
        <button type="button" className="small-btn danger" onClick={onCancel} data-testid="run-cancel">
          Cancel run
        </button>
      )}
      {state.runStatus === 'failed' && (
        <button type="button" className="small-btn" onClick={onRetry} data-testid="run-retry">
          Retry from failed step
        </button>
      )}
      <button type="button" className="icon-btn" aria-label="Close run overlay" onClick={onClose} data-testid="run-close">
        ✕
      </button>
    </div>
  );
}

// ------------------------------------------------------------------ timeline

export function Timeline({ state, nodes, onSelect }: { state: LiveState; nodes: FlowNode[]; onSelect: (nodeId: string) => void }) {
  const [now, setNow] = useState(Date.now());
  const finished = isFinished(state.runStatus);
  useEffect(() => {
    if (finished) return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [finished]);
  const names = new Map(nodes.map((n) => [n.id, n.data.name]));
  const rows = Object.entries(state.nodes)
    .filter(([, s]) => s.startedAt)
    .map(([id, s]) => ({ id, s, start: new Date(s.startedAt!).getTime(), end: s.finishedAt ? new Date(s.finishedAt).getTime() : now }))
    .sort((a, b) => a.start - b.start);
  if (rows.length === 0) return <div className="timeline muted small" data-testid="timeline">No step has started yet.</div>;
  const t0 = Math.min(...rows.map((r) => r.start), state.startedAt ? new Date(state.startedAt).getTime() : Infinity);
  const t1 = Math.max(...rows.map((r) => r.end), t0 + 1);
  const span = t1 - t0;
  return (
    <div className="timeline" data-testid="timeline" aria-label="Step timeline">
      {rows.map((r) => (
        <button type="button" key={r.id} className="tl-row" onClick={() => onSelect(r.id)} data-testid="timeline-row" data-node-id={r.id}>
          <span className="tl-name">{names.get(r.id) ?? r.id}</span>
          <span className="tl-track">
            <span
              className={`tl-bar st-${r.s.status}`}
              style={{ left: `${((r.start - t0) / span) * 100}%`, width: `${Math.max(0.8, ((r.end - r.start) / span) * 100)}%` }}
              title={`${r.s.status} · ${formatDuration(r.end - r.start)}`}
            />
          </span>
          <span className="tl-dur small">{formatDuration(r.end - r.start)}</span>
        </button>
      ))}
    </div>
  );
}

// ------------------------------------------------------------------ step inspector

export function StepInspector({ nodeId, nodeName, state, detail, onClose }: { nodeId: string; nodeName: string; state: LiveState; detail: Execution | null; onClose: () => void }) {
  const live = state.nodes[nodeId];
  const steps: Step[] = (detail?.steps ?? []).filter((s) => s.nodeId === nodeId);
  const [chosen, setTab] = useState<'output' | 'input' | 'error' | null>(null);
  const step = steps[steps.length - 1];
  const output = step?.output ?? live?.output;
  const error = step?.error ?? live?.error ?? null;
  // A failed step opens on its error, anything else on its output, until the user picks a tab.
  const tab = chosen ?? (error ? 'error' : 'output');
  return (
    <aside className="side-panel" aria-label="Step inspector" data-testid="step-inspector">
      <header className="side-head">
        <div>
          <h2>{nodeName}</h2>
          <div className="row">
            <StatusPill status={live?.status ?? step?.status ?? 'pending'} testId="inspector-status" />
            <span className="small muted" data-testid="inspector-attempts">
              attempt {live?.attempt ?? step?.attempt ?? 0}
            </span>
            {live?.startedAt && (
              <span className="small muted">{formatDuration((live.finishedAt ? new Date(live.finishedAt).getTime() : Date.now()) - new Date(live.startedAt).getTime())}</span>
            )}
          </div>
        </div>
        <button type="button" className="icon-btn" aria-label="Close inspector" onClick={onClose} data-testid="inspector-close">
          ✕
        </button>
      </header>
      {!live && !step && <p className="muted small">This node has not run in this execution (yet).</p>}
      <div className="tabs" role="tablist">
        {(['output', 'input', 'error'] as const).map((t) => (
          <button type="button" role="tab" key={t} aria-selected={tab === t} onClick={() => setTab(t)} data-testid={`inspector-tab-${t}`}>
            {t}
            {t === 'error' && error ? ' ⚠' : ''}
          </button>
        ))}
      </div>
      {tab === 'output' && <JsonView value={output} testId="inspector-output" label="Step output" />}
      {tab === 'input' && <JsonView value={step?.input} testId="inspector-input" label="Step input" />}
      {tab === 'error' && (error ? <ErrorBox error={new Error(error.message)} testId="inspector-error" /> : <p className="muted small">No error.</p>)}
      {steps.length > 1 && (
        <details>
          <summary>{steps.length} items / attempts</summary>
          {steps.map((s) => (
            <div key={s.id} className="small">
              #{s.itemIndex ?? 0} · <StatusPill status={s.status} /> · attempt {s.attempt}
            </div>
          ))}
        </details>
      )}
    </aside>
  );
}
