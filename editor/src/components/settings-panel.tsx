/** Settings of the selected node: name, config form, inline errors, "test this node", webhook details. */
import { useMemo, useState } from 'react';
import type { GridProblem, NodeTestResult, NodeTypeInfo, WebhookInfo } from '../api/types.js';
import { api } from '../api/client.js';
import { validateConfig } from '../lib/schema.js';
import { upstreamNodes } from '../lib/graph-rules.js';
import { SchemaForm } from './schema-form.js';
import type { UpstreamNode } from './expression-input.js';
import type { FlowEdge, FlowNode, GridNodeData } from '../canvas/mapping.js';
import { ErrorBox, JsonView, formatDuration } from './ui.js';
import { WebhookDetails } from './webhook-details.js';

export function flattenFields(v: unknown, prefix = '', depth = 0, out: string[] = []): string[] {
  if (v && typeof v === 'object' && !Array.isArray(v) && depth < 3) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.push(p);
      flattenFields(x, p, depth + 1, out);
    }
  }
  return out.slice(0, 60);
}

export function SettingsPanel({
  node,
  nodeType,
  nodes,
  edges,
  problems,
  liveOutputs,
  gridId,
  webhook,
  onChange,
  onClose,
  beforeTest,
  readOnly,
}: {
  node: FlowNode;
  nodeType: NodeTypeInfo | undefined;
  nodes: FlowNode[];
  edges: FlowEdge[];
  problems: GridProblem[];
  liveOutputs: Record<string, unknown>;
  gridId: string;
  webhook?: WebhookInfo | null;
  onChange: (patch: Partial<GridNodeData>, key: string) => void;
  onClose: () => void;
  beforeTest: () => Promise<unknown>;
  readOnly?: boolean;
}) {
  const upstream: UpstreamNode[] = useMemo(() => {
    const byId = new Map(nodes.map((n) => [n.id, n]));
    return upstreamNodes(edges, node.id)
      .map((id) => byId.get(id))
      .filter((n): n is FlowNode => !!n)
      .map((n) => ({ id: n.id, name: n.data.name, fields: [...new Set([...(nodeTypeFields(n, liveOutputs[n.id]))])] }));
  }, [nodes, edges, node.id, liveOutputs]);

  const clientErrors = useMemo(() => (nodeType ? validateConfig(nodeType.configSchema, node.data.config) : {}), [nodeType, node.data.config]);
  const serverErrors = useMemo(() => {
    const out: Record<string, string> = {};
    for (const p of problems) if (p.nodeId === node.id && p.path) out[p.path.replace(/^config\./, '')] = p.message;
    return out;
  }, [problems, node.id]);
  const general = problems.filter((p) => p.nodeId === node.id && (!p.path || !p.path.startsWith('config')));
  const errors = { ...serverErrors, ...clientErrors };

  return (
    <aside className="side-panel" aria-label="Node settings" data-testid="settings-panel">
      <header className="side-head">
        <span className="gnode-icon" aria-hidden>
          {nodeType?.icon ?? '?'}
        </span>
        <div>
          <h2>{node.data.name}</h2>
          <div className="muted small">{nodeType ? `${nodeType.label} · v${node.data.typeVersion}` : `Unknown node type "${node.data.type}"`}</div>
        </div>
        <button type="button" className="icon-btn" aria-label="Close settings" onClick={onClose} data-testid="settings-close">
          ✕
        </button>
      </header>
      {nodeType?.description && <p className="muted small">{nodeType.description}</p>}
      {general.length > 0 && (
        <ul className="problems" role="alert" data-testid="node-general-problems">
          {general.map((p, i) => (
            <li key={i}>{p.message}</li>
          ))}
        </ul>
      )}
      <div className="field">
        <label htmlFor="node-name">Name</label>
        <input id="node-name" value={node.data.name} disabled={readOnly} onChange={(e) => onChange({ name: e.target.value }, `name:${node.id}`)} data-testid="node-name-input" />
        {node.data.name.trim() === '' && <small className="field-error" role="alert">Name is required</small>}
      </div>
      <div className="field field-toggle">
        <label htmlFor="node-disabled">
          <input id="node-disabled" type="checkbox" role="switch" disabled={readOnly} checked={!!node.data.disabled} onChange={(e) => onChange({ disabled: e.target.checked || undefined }, `disabled:${node.id}`)} data-testid="node-disabled" />
          <span>Disabled (skipped when the grid runs)</span>
        </label>
      </div>
      {nodeType && (
        <SchemaForm
          key={`form-${node.id}`}
          schema={nodeType.configSchema}
          value={node.data.config}
          onChange={(config, path) => onChange({ config }, `config:${node.id}:${path}`)}
          errors={errors}
          upstream={upstream}
          idPrefix={`cfg-${node.id}`}
          readOnly={readOnly}
        />
      )}
      <div className="field">
        <label htmlFor="node-notes">Notes</label>
        <textarea id="node-notes" rows={2} disabled={readOnly} value={node.data.notes ?? ''} onChange={(e) => onChange({ notes: e.target.value || undefined }, `notes:${node.id}`)} data-testid="node-notes" />
      </div>
      {(node.data.config.mode === 'webhook' || /webhook/i.test(node.data.type)) && (
        <WebhookDetails path={webhook?.path ?? String(node.data.config.path ?? '')} url={webhook?.url} secret={webhook?.secret ?? null} signed={webhook?.signed ?? node.data.config.auth === 'hmac'} />
      )}
      {!readOnly && <TestNode key={`test-${node.id}`} gridId={gridId} nodeId={node.id} defaultInput={defaultTestInput(node.id, edges, liveOutputs)} beforeTest={beforeTest} />}
    </aside>
  );
}

function nodeTypeFields(n: FlowNode, lastOutput: unknown): string[] {
  return flattenFields(lastOutput);
}

function defaultTestInput(nodeId: string, edges: FlowEdge[], outputs: Record<string, unknown>): unknown {
  const parents = edges.filter((e) => e.target === nodeId).map((e) => e.source);
  if (parents.length === 1 && outputs[parents[0]!] !== undefined) return outputs[parents[0]!];
  return {};
}

function TestNode({ gridId, nodeId, defaultInput, beforeTest }: { gridId: string; nodeId: string; defaultInput: unknown; beforeTest: () => Promise<unknown> }) {
  const [input, setInput] = useState(() => JSON.stringify(defaultInput, null, 2));
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<NodeTestResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [inputError, setInputError] = useState<string | null>(null);

  async function run() {
    let parsed: unknown;
    try {
      parsed = input.trim() ? JSON.parse(input) : {};
      setInputError(null);
    } catch (e) {
      setInputError(`Input is not valid JSON: ${(e as Error).message}`);
      return;
    }
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      await beforeTest();
      setResult(await api.testNode(gridId, nodeId, parsed));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="test-node" aria-label="Test this node" data-testid="test-node">
      <h3>Test this node</h3>
      <label htmlFor="test-input" className="small">
        Input (JSON)
      </label>
      <textarea id="test-input" className="mono" rows={4} value={input} onChange={(e) => setInput(e.target.value)} data-testid="test-input" />
      {inputError && <small className="field-error" role="alert">{inputError}</small>}
      <button type="button" onClick={() => void run()} disabled={busy} data-testid="test-run">
        {busy ? 'Running…' : '▶ Test node'}
      </button>
      {error !== null && <ErrorBox error={error} testId="test-error" />}
      {result && (
        <div data-testid="test-result">
          {result.error ? (
            <div className="state state-error" role="alert" data-testid="test-result-error">
              {result.error.message}
            </div>
          ) : null}
          <div className="small muted">
            {result.durationMs !== undefined ? `Took ${formatDuration(result.durationMs)}` : null}
            {result.ports?.length ? ` · fired: ${result.ports.join(', ')}` : null}
          </div>
          <h4>Output</h4>
          <JsonView value={result.output} testId="test-output" />
        </div>
      )}
    </section>
  );
}
