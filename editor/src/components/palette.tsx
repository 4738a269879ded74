/** Node palette grouped by category: drag a node onto the canvas, or click to add it at the cursor. */
import { useMemo, useState, type DragEvent } from 'react';
import type { NodeTypeInfo } from '../api/types.js';
import { ErrorBox, Loading } from './ui.js';

export const DND_TYPE = 'application/x-gridflow-node-type';

const CATEGORY_ORDER = ['trigger', 'content', 'logic', 'data', 'utility'];
const CATEGORY_LABEL: Record<string, string> = { trigger: 'Triggers', content: 'Content', logic: 'Logic', data: 'Data', utility: 'Utilities' };

export function Palette({
  types,
  loading,
  error,
  onRetry,
  onAdd,
}: {
  types: NodeTypeInfo[];
  loading: boolean;
  error: unknown;
  onRetry: () => void;
  onAdd: (t: NodeTypeInfo) => void;
}) {
  const [q, setQ] = useState('');
  const groups = useMemo(() => {
    const needle = q.trim().toLowerCase();
    const m = new Map<string, NodeTypeInfo[]>();
    for (const t of types) {
      if (needle && !`${t.label} ${t.description} ${t.type}`.toLowerCase().includes(needle)) continue;
      const l = m.get(t.category) ?? [];
      l.push(t);
      m.set(t.category, l);
    }
    return [...m.entries()].sort((a, b) => rank(a[0]) - rank(b[0]));
  }, [types, q]);

  const onDragStart = (e: DragEvent, t: NodeTypeInfo) => {
    e.dataTransfer.setData(DND_TYPE, t.type);
    e.dataTransfer.setData('text/plain', t.type);
    e.dataTransfer.effectAllowed = 'move';
  };

  return (
    <aside className="palette" aria-label="Node palette" data-testid="palette">
      <input type="search" placeholder="Search nodes" aria-label="Search nodes" value={q} onChange={(e) => setQ(e.target.value)} data-testid="palette-search" />
      {loading && <Loading what="Loading nodes…" />}
      {error !== null && !loading && <ErrorBox error={error} onRetry={onRetry} />}
      {!loading && !error && groups.length === 0 && <p className="muted small">No node matches “{q}”.</p>}
      {groups.map(([cat, list]) => (
        <section key={cat} aria-label={CATEGORY_LABEL[cat] ?? cat} data-testid={`palette-category-${cat}`}>
          <h3>{CATEGORY_LABEL[cat] ?? cat}</h3>
          {list.map((t) => (
            <button
              type="button"
              key={t.type}
              className="palette-item"
              draggable
              onDragStart={(e) => onDragStart(e, t)}
              onClick={() => onAdd(t)}
              title={`${t.description}\nDrag onto the canvas, or click to add.`}
              aria-label={`Add ${t.label}`}
              data-testid={`palette-item-${t.type}`}
            >
              <span className="gnode-icon" aria-hidden>
                {t.icon}
              </span>
              <span className="palette-text">
                <span>{t.label}</span>
                <small className="muted">{t.description}</small>
              </span>
            </button>
          ))}
        </section>
      ))}
    </aside>
  );
}

function rank(c: string) {
  const i = CATEGORY_ORDER.indexOf(c);
  return i === -1 ? 99 : i;
}
