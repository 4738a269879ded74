/**
 * The canvas node: icon, name, a one-line config summary, labelled ports, a status badge and
 * validation problems. Memoized; overlays come from the OverlayStore by id (see overlay-store.ts).
 * Zoomed out below LOD_ZOOM (lod.tsx) it draws a cheap body instead: same box, colours and size,
 * the name in large type, no handles/labels/badges (invisible placeholders keep the handle
 * positions measurable for nodes first mounted zoomed out).
 */
import { memo, useEffect, useMemo, useRef } from 'react';
import { Handle, Position, useUpdateNodeInternals, type NodeProps } from '@xyflow/react';
import { useNodeTypes } from '../session.js';
import { configSummary, type FlowNode } from './mapping.js';
import { useNodeOverlay } from './overlay-store.js';
import { useLowDetail } from './lod.js';
import { estimatedNodeHeight } from './node-geometry.js';
import { ERROR_PORT } from '../lib/graph-rules.js';
import { outputsOf, portsKey } from '../lib/ports.js';

const DEFAULT_IN = [{ name: 'in', label: 'in' }];
const DEFAULT_OUT = [{ name: 'out', label: 'out' }];

/** Single ports with these names need no label. */
const DEFAULT_PORTS = new Set(['in', 'out', 'main']);

const STATUS_LABEL: Record<string, string> = {
  pending: 'Pending',
  running: 'Running',
  waiting: 'Waiting',
  completed: 'Done',
  failed: 'Failed',
  skipped: 'Skipped',
};

function GridNodeView({ id, data, selected, height }: NodeProps<FlowNode>) {
  const { byType } = useNodeTypes();
  const t = byType.get(data.type);
  const overlay = useNodeOverlay(id);
  const inputs = t ? t.inputs : DEFAULT_IN;
  // Ports from the node's current config (branch routes), not only the type's static outputs.
  const outputs = useMemo(() => (t ? outputsOf(t, data.config) : DEFAULT_OUT), [t, data.config]);
  const key = portsKey(outputs);
  const updateNodeInternals = useUpdateNodeInternals();
  const firstKey = useRef(key);
  useEffect(() => {
    // React Flow measures handles once; tell it when the routes (hence the handles) changed.
    if (key !== firstKey.current) {
      firstKey.current = key;
      updateNodeInternals(id);
    }
  }, [key, id, updateNodeInternals]);
  const lowDetail = useLowDetail();
  const hasError = t ? !t.isTrigger : true;
  const rows = Math.max(inputs.length, outputs.length + (hasError ? 1 : 0), 1);
  const cls = [
    'gnode',
    selected ? 'is-selected' : '',
    data.disabled ? 'is-disabled' : '',
    overlay.status ? `st-${overlay.status}` : '',
    overlay.diff ? `diff-${overlay.diff}` : '',
    overlay.problems?.length ? 'has-problems' : '',
    !t ? 'is-unknown' : '',
  ].join(' ');
  const label = `${t?.label ?? data.type} node ${data.name}${overlay.status ? `, ${overlay.status}` : ''}`;
  if (lowDetail) {
    // Same size as the detailed body, so crossing the threshold does not resize (re-measure) the node.
    return (
      <div className={`${cls} gnode-lod`} data-testid="grid-node" data-lod="low" data-node-id={id} data-node-type={data.type} data-node-name={data.name} data-status={overlay.status ?? ''} data-diff={overlay.diff ?? ''} aria-label={label} style={{ height: height ?? estimatedNodeHeight(rows) }}>
        <div className="gnode-lod-name">{data.name}</div>
        <div className="gnode-ports" style={{ height: rows * 20 }} aria-hidden>
          {inputs.map((p, i) => (
            <div key={`in-${p.name}`} className="port port-in" style={{ top: i * 20 }}>
              <div className="react-flow__handle react-flow__handle-left target gnode-ghost" data-handleid={p.name} data-nodeid={id} data-handlepos="left" />
            </div>
          ))}
          {(hasError ? [...outputs, { name: ERROR_PORT }] : outputs).map((p, i) => (
            <div key={`out-${p.name}`} className="port port-out" style={{ top: i * 20 }}>
              <div className="react-flow__handle react-flow__handle-right source gnode-ghost" data-handleid={p.name} data-nodeid={id} data-handlepos="right" />
            </div>
          ))}
        </div>
      </div>
    );
  }
  const summary = configSummary(data.config);
  return (
    <div
      className={cls}
      data-lod="full"
      data-testid="grid-node"
      data-node-id={id}
      data-node-type={data.type}
      data-node-name={data.name}
      data-status={overlay.status ?? ''}
      data-diff={overlay.diff ?? ''}
      aria-label={label}
    >
      <div className="gnode-head">
        <span className="gnode-icon" aria-hidden>
          {t?.icon ?? '?'}
        </span>
        <div className="gnode-title">
          <div className="gnode-name" data-testid="node-name">
            {data.name}
          </div>
          <div className="gnode-type">{t?.label ?? `Unknown type "${data.type}"`}</div>
        </div>
        {overlay.status && (
          <span className={`badge badge-${overlay.status}`} data-testid="node-status" data-status={overlay.status} title={STATUS_LABEL[overlay.status]}>
            {overlay.status === 'running' ? <span className="spinner small" aria-hidden /> : null}
            {STATUS_LABEL[overlay.status] ?? overlay.status}
            {overlay.attempt && overlay.attempt > 1 ? ` ×${overlay.attempt}` : ''}
          </span>
        )}
        {overlay.diff && overlay.diff !== 'unchanged' && (
          <span className={`badge diffbadge-${overlay.diff}`} data-testid="node-diff">
            {overlay.diff}
          </span>
        )}
      </div>
      <div className="gnode-summary" title={summary} data-testid="node-summary">
        {summary || '\u00a0'}
      </div>
      <div className="gnode-ports" style={{ height: rows * 20 }}>
        {inputs.map((p, i) => (
          <div key={`in-${p.name}`} className="port port-in" style={{ top: i * 20 }}>
            <Handle type="target" position={Position.Left} id={p.name} data-testid={`port-in-${p.name}`} aria-label={`Input ${p.label}`} />
            {inputs.length > 1 || !DEFAULT_PORTS.has(p.name) ? <span className="port-label">{p.label}</span> : null}
          </div>
        ))}
        {outputs.map((p, i) => (
          <div key={`out-${p.name}`} className="port port-out" style={{ top: i * 20 }}>
            {outputs.length > 1 || !DEFAULT_PORTS.has(p.name) ? <span className="port-label">{p.label}</span> : null}
            <Handle type="source" position={Position.Right} id={p.name} data-testid={`port-out-${p.name}`} aria-label={`Output ${p.label}`} />
          </div>
        ))}
        {hasError && (
          <div className="port port-out port-error" style={{ top: outputs.length * 20 }}>
            <span className="port-label">on error</span>
            <Handle type="source" position={Position.Right} id={ERROR_PORT} data-testid={`port-out-${ERROR_PORT}`} aria-label="Output on error" />
          </div>
        )}
      </div>
      {/* below the ports, so that problems appearing never move a port under the user's mouse */}
      {overlay.problems && overlay.problems.length > 0 && (
        <ul className="gnode-problems" data-testid="node-problems" role="alert">
          {overlay.problems.slice(0, 3).map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export const GridNodeComponent = memo(GridNodeView);

/** Defined once at module level: React Flow must not see a new object on each render. */
export const nodeTypes = { grid: GridNodeComponent };

/**
 * React Flow reports problems (e.g. an edge on a handle the node does not draw) only in development
 * builds unless given `onError`; the canvases pass this so they show up in the console (and fail e2e).
 */
export function reportFlowError(code: string, message: string): void {
  console.error(`[React Flow ${code}] ${message}`);
}
