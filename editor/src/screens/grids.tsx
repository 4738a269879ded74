import { useMemo, useState } from 'react';
import { api, ApiError, problemsFromDetails } from '../api/client.js';
import type { GridDocumentInput, GridProblem } from '../api/types.js';
import { Empty, ErrorBox, Loading, Modal, StatusPill, errorMessage, timeAgo } from '../components/ui.js';
import { useAsync } from '../components/use-async.js';
import { href, navigate } from '../router.js';

export function GridsScreen() {
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  // The grid list API has no run statistics: derive them from the latest executions.
  const grids = useAsync(async () => {
    const [list, runs] = await Promise.all([api.listGrids(), api.executions({ limit: 200 }).catch(() => ({ items: [], nextCursor: null }))]);
    const byGrid = new Map<string, typeof runs.items>();
    for (const r of runs.items) byGrid.set(r.gridId, [...(byGrid.get(r.gridId) ?? []), r]);
    return list.map((g) => {
      const rs = byGrid.get(g.id);
      if (!rs || g.runCount > 0) return g;
      const finished = rs.filter((r) => r.status === 'completed' || r.status === 'failed' || r.status === 'cancelled');
      return {
        ...g,
        runCount: rs.length,
        lastRunStatus: rs[0]!.status,
        lastRunAt: rs[0]!.startedAt ?? rs[0]!.createdAt,
        successRate: finished.length ? finished.filter((r) => r.status === 'completed').length / finished.length : null,
      };
    });
  }, []);
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [createError, setCreateError] = useState<unknown>(null);

  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return (grids.data ?? []).filter(
      (g) => (!needle || g.name.toLowerCase().includes(needle) || (g.description ?? '').toLowerCase().includes(needle)) && (!status || g.status === status),
    );
  }, [grids.data, q, status]);

  async function createGrid() {
    setCreating(true);
    setCreateError(null);
    try {
      const n = (grids.data?.length ?? 0) + 1;
      const g = await api.createGrid({ name: `Untitled grid ${n}` });
      navigate(`/grids/${g.id}`);
    } catch (e) {
      setCreateError(e);
    } finally {
      setCreating(false);
    }
  }

  return (
    <section className="page" aria-labelledby="grids-title">
      <header className="page-head">
        <h1 id="grids-title">Grids</h1>
        <div className="row">
          <input
            type="search"
            placeholder="Search grids"
            aria-label="Search grids"
            data-testid="grid-search"
            value={q}
            onChange={(e) => setQ(e.target.value)}
          />
          <select aria-label="Filter by status" data-testid="grid-status-filter" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All statuses</option>
            <option value="draft">Draft</option>
            <option value="published">Published</option>
            <option value="archived">Archived</option>
          </select>
          <button type="button" onClick={() => setImporting(true)} data-testid="import-grid">
            Import JSON
          </button>
          <button type="button" className="primary" onClick={() => void createGrid()} disabled={creating} data-testid="new-grid">
            {creating ? 'Creating…' : 'New grid'}
          </button>
        </div>
      </header>
      {createError !== null && <ErrorBox error={createError} testId="create-grid-error" />}
      {grids.loading && !grids.data ? (
        <Loading what="Loading grids…" />
      ) : grids.error ? (
        <ErrorBox error={grids.error} onRetry={grids.reload} />
      ) : (grids.data ?? []).length === 0 ? (
        <Empty title="No grids yet" testId="grids-empty">
          Start from an empty canvas with <b>New grid</b>, or pick a ready-made flow in the <a href={href('/templates')}>template gallery</a>.
        </Empty>
      ) : shown.length === 0 ? (
        <Empty title="No grid matches your search" testId="grids-no-match" />
      ) : (
        <table className="table" data-testid="grids-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Status</th>
              <th>Last run</th>
              <th>Runs</th>
              <th>Success rate</th>
              <th>Created</th>
              <th>Updated</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((g) => (
              <tr key={g.id} data-testid="grid-row" data-grid-id={g.id}>
                <td>
                  <a href={href(`/grids/${g.id}`)} data-testid="grid-link">
                    {g.name}
                  </a>
                  {g.description && <div className="muted small">{g.description}</div>}
                </td>
                <td>
                  <StatusPill status={g.status} />
                  {g.publishedVersion ? <span className="muted small"> v{g.publishedVersion}</span> : null}
                </td>
                <td>
                  <StatusPill status={g.lastRunStatus} /> <span className="muted small">{timeAgo(g.lastRunAt)}</span>
                </td>
                <td>{g.runCount}</td>
                <td>{g.successRate === null ? '—' : `${Math.round((g.successRate > 1 ? g.successRate : g.successRate * 100))}%`}</td>
                <td title={g.createdAt}>{timeAgo(g.createdAt)}</td>
                <td title={g.updatedAt}>{timeAgo(g.updatedAt)}</td>
                <td>
                  <a href={href(`/grids/${g.id}/executions`)} data-testid="grid-executions-link">
                    Runs
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {importing && <ImportDialog onClose={() => setImporting(false)} />}
    </section>
  );
}

/** Import a grid (or template-format) JSON file; validation errors are listed per node. */
export function ImportDialog({ onClose }: { onClose: () => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<(GridProblem & { nodeName?: string })[]>([]);

  async function onFile(f: File | undefined) {
    if (!f) return;
    setText(await f.text());
  }

  async function submit() {
    setError(null);
    setProblems([]);
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (e) {
      setError(`This is not valid JSON: ${(e as Error).message}`);
      return;
    }
    setBusy(true);
    try {
      const g = await api.importGrid(payload);
      onClose();
      navigate(`/grids/${g.id}`);
    } catch (e) {
      if (e instanceof ApiError && e.details.length) {
        const doc = ((payload as { document?: GridDocumentInput }).document ?? payload) as GridDocumentInput;
        const safeDoc = { nodes: Array.isArray(doc?.nodes) ? doc.nodes : [], edges: Array.isArray(doc?.edges) ? doc.edges : [] } as GridDocumentInput;
        setProblems(
          problemsFromDetails(e.details, safeDoc).map((p) => ({ ...p, nodeName: safeDoc.nodes.find((n) => n.id === p.nodeId)?.name })),
        );
      }
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title="Import a grid" onClose={onClose} testId="import-dialog">
      <p className="muted">Choose a grid JSON file exported from Gridflow, or paste its content.</p>
      <input type="file" accept="application/json,.json" aria-label="Grid JSON file" data-testid="import-file" onChange={(e) => void onFile(e.target.files?.[0])} />
      <textarea rows={10} aria-label="Grid JSON" data-testid="import-text" value={text} onChange={(e) => setText(e.target.value)} className="mono" />
      {error && (
        <div className="state state-error" role="alert" data-testid="import-error">
          {error}
        </div>
      )}
      {problems.length > 0 && (
        <ul className="problems" data-testid="import-problems">
          {problems.map((p, i) => (
            <li key={i}>
              <b>{p.nodeName ?? p.nodeId ?? p.edgeId ?? 'Grid'}</b>
              {p.path ? ` · ${p.path}` : ''}: {p.message}
            </li>
          ))}
        </ul>
      )}
      <div className="row end">
        <button type="button" onClick={onClose}>
          Cancel
        </button>
        <button type="button" className="primary" disabled={busy || !text.trim()} onClick={() => void submit()} data-testid="import-submit">
          {busy ? 'Importing…' : 'Import'}
        </button>
      </div>
    </Modal>
  );
}
