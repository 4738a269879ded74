/** Template gallery: browse by category, search, read-only preview, requirements, install with a setup checklist. */
import { useMemo, useState } from 'react';
import { api } from '../api/client.js';
import type { InstallResult, SetupItem, TemplateSummary } from '../api/types.js';
import { Empty, ErrorBox, Loading, Modal, errorMessage } from '../components/ui.js';
import { useAsync } from '../components/use-async.js';
import { ReadOnlyCanvas } from '../canvas/read-only-canvas.js';
import { navigate } from '../router.js';
import { ImportDialog } from './grids.js';

export function setupChecklist(r: InstallResult): SetupItem[] {
  const items: SetupItem[] = [...r.setup];
  const nodes = new Map(r.grid.document.nodes.map((n) => [n.id, n.name]));
  for (const p of r.grid.problems) {
    const name = p.nodeId ? nodes.get(p.nodeId) : undefined;
    items.push({ nodeId: p.nodeId, label: `${name ? `${name}: ` : ''}${p.path ? `${p.path.replace(/^config\./, '')} — ` : ''}${p.message}` });
  }
  for (const c of r.requirements?.connections ?? []) items.push({ label: `Connect a ${c} account (Connections page), or keep the built-in fake connector for testing` });
  if (r.requirements?.brandProfile) items.push({ label: 'Create a brand profile (Brand profiles page) and pick it in the brand-guard node' });
  return items;
}

export function TemplatesScreen() {
  const templates = useAsync(() => api.templates(), []);
  const [q, setQ] = useState('');
  const [category, setCategory] = useState('');
  const [preview, setPreview] = useState<TemplateSummary | null>(null);
  const [importing, setImporting] = useState(false);

  const categories = useMemo(() => [...new Set((templates.data ?? []).map((t) => t.category))].sort(), [templates.data]);
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return (templates.data ?? []).filter(
      (t) => (!category || t.category === category) && (!needle || `${t.title} ${t.description} ${t.tags.join(' ')}`.toLowerCase().includes(needle)),
    );
  }, [templates.data, q, category]);

  return (
    <section className="page" aria-labelledby="templates-title">
      <header className="page-head">
        <h1 id="templates-title">Template gallery</h1>
        <div className="row">
          <input type="search" placeholder="Search templates" aria-label="Search templates" value={q} onChange={(e) => setQ(e.target.value)} data-testid="template-search" />
          <button type="button" onClick={() => setImporting(true)} data-testid="template-import">
            Import JSON
          </button>
        </div>
      </header>
      {templates.loading && !templates.data ? (
        <Loading what="Loading templates…" />
      ) : templates.error ? (
        <ErrorBox error={templates.error} onRetry={templates.reload} />
      ) : (templates.data ?? []).length === 0 ? (
        <Empty title="No templates available" testId="templates-empty" />
      ) : (
        <div className="gallery">
          <nav className="categories" aria-label="Template categories">
            <button type="button" aria-pressed={category === ''} onClick={() => setCategory('')} data-testid="template-category-all">
              All ({templates.data!.length})
            </button>
            {categories.map((c) => (
              <button type="button" key={c} aria-pressed={category === c} onClick={() => setCategory(c)} data-testid={`template-category-${c}`}>
                {c} ({templates.data!.filter((t) => t.category === c).length})
              </button>
            ))}
          </nav>
          {shown.length === 0 ? (
            <Empty title="No template matches" testId="templates-no-match" />
          ) : (
            <div className="cards" data-testid="templates-list">
              {shown.map((t) => (
                <article key={t.slug} className="card template" data-testid="template-card" data-slug={t.slug}>
                  {t.previewImageUrl && <img className="template-thumb" src={t.previewImageUrl} alt={`Graph of ${t.title}`} />}
                  <span className="pill">{t.category}</span>
                  <h2>{t.title}</h2>
                  <p className="small">{t.description}</p>
                  <div className="tags">
                    {t.tags.map((x) => (
                      <span key={x} className="tag">
                        {x}
                      </span>
                    ))}
                  </div>
                  {t.requirements.connections.length > 0 && <p className="small muted">Needs: {t.requirements.connections.join(', ')}</p>}
                  <button type="button" onClick={() => setPreview(t)} data-testid="template-preview">
                    Preview & install
                  </button>
                </article>
              ))}
            </div>
          )}
        </div>
      )}
      {preview && <TemplatePreview summary={preview} onClose={() => setPreview(null)} />}
      {importing && <ImportDialog onClose={() => setImporting(false)} />}
    </section>
  );
}

function TemplatePreview({ summary, onClose }: { summary: TemplateSummary; onClose: () => void }) {
  const t = useAsync(() => api.template(summary.slug), [summary.slug]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function install() {
    setBusy(true);
    setError(null);
    try {
      const r = await api.installTemplate(summary.slug);
      const items = setupChecklist(r);
      if (items.length) sessionStorage.setItem(`gridflow.setup.${r.grid.id}`, JSON.stringify(items));
      onClose();
      navigate(`/grids/${r.grid.id}`);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title={summary.title} onClose={onClose} testId="template-dialog" wide>
      <p>{summary.description}</p>
      {t.loading && !t.data ? (
        <Loading what="Loading preview…" />
      ) : t.error ? (
        <ErrorBox error={t.error} onRetry={t.reload} />
      ) : t.data?.document ? (
        <ReadOnlyCanvas document={t.data.document} testId="template-preview-canvas" minimap={false} />
      ) : null}
      <h3>What it needs</h3>
      <ul className="small" data-testid="template-requirements">
        {summary.requirements.connections.length === 0 && !summary.requirements.brandProfile && (summary.requirements.other ?? []).length === 0 && (
          <li>Nothing: it runs with the built-in offline writer and fake connectors.</li>
        )}
        {summary.requirements.connections.map((c) => (
          <li key={c}>A connected {c} account (optional for a test run: the fake connector is used otherwise)</li>
        ))}
        {summary.requirements.brandProfile && <li>A brand profile</li>}
        {(summary.requirements.other ?? []).map((o) => (
          <li key={o}>{o}</li>
        ))}
      </ul>
      {error && (
        <div className="state state-error" role="alert" data-testid="template-install-error">
          {error}
        </div>
      )}
      <div className="row end">
        <button type="button" onClick={onClose}>
          Close
        </button>
        <button type="button" className="primary" disabled={busy} onClick={() => void install()} data-testid="template-install">
          {busy ? 'Installing…' : 'Install as new grid'}
        </button>
      </div>
    </Modal>
  );
}
