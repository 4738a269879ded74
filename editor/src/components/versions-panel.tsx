/** Version history (who, when, note), compare two versions (or a version with the draft), restore. */
import { useState } from 'react';
import { api } from '../api/client.js';
import type { GridDocument } from '../api/types.js';
import { diffDocuments, marksFromServerDiff, type DiffResult } from '../lib/diff.js';
import { useAsync } from './use-async.js';
import { Empty, ErrorBox, Loading, errorMessage, timeAgo } from './ui.js';

export interface DiffView {
  result: DiffResult;
  before: string;
  after: string;
}

export function VersionsPanel({
  gridId,
  currentDocument,
  refreshKey,
  onCompare,
  onRestored,
  onClose,
  beforeRestore,
}: {
  gridId: string;
  currentDocument: () => GridDocument;
  refreshKey: number;
  onCompare: (d: DiffView) => void;
  onRestored: (version: number) => void;
  onClose: () => void;
  beforeRestore: () => Promise<unknown>;
}) {
  const versions = useAsync(async () => {
    const [vs, members] = await Promise.all([api.versions(gridId), api.members().catch(() => [])]);
    // Versions name their publisher by id: resolve it to the member's name.
    const byId = new Map(members.map((m) => [m.userId, m]));
    return vs.map((v) => (v.createdBy && !v.createdBy.name ? { ...v, createdBy: { ...v.createdBy, name: byId.get(v.createdBy.id)?.name ?? byId.get(v.createdBy.id)?.email ?? 'a former member' } } : v));
  }, [gridId, refreshKey]);
  const [a, setA] = useState<string>('');
  const [b, setB] = useState<string>('draft');
  const [busy, setBusy] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function docOf(v: string): Promise<GridDocument> {
    return v === 'draft' ? currentDocument() : (await api.version(gridId, Number(v))).document;
  }

  async function compare(va: string, vb: string) {
    setBusy('compare');
    setError(null);
    try {
      const [da, db] = await Promise.all([docOf(va), docOf(vb)]);
      let result = diffDocuments(da, db);
      if (va !== 'draft' && vb !== 'draft') {
        try {
          result = marksFromServerDiff(result, await api.diff(gridId, Number(va), Number(vb)));
        } catch {
          /* the local diff stands on its own */
        }
      }
      onCompare({ result, before: va === 'draft' ? 'Draft' : `v${va}`, after: vb === 'draft' ? 'Draft' : `v${vb}` });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  async function restore(n: number) {
    setBusy(`restore-${n}`);
    setError(null);
    try {
      await beforeRestore();
      await api.restore(gridId, n);
      onRestored(n);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  const list = versions.data ?? [];
  return (
    <aside className="side-panel" aria-label="Version history" data-testid="versions-panel">
      <header className="side-head">
        <h2>Versions</h2>
        <button type="button" className="icon-btn" aria-label="Close versions" onClick={onClose} data-testid="versions-close">
          ✕
        </button>
      </header>
      {versions.loading && !versions.data ? (
        <Loading what="Loading versions…" />
      ) : versions.error ? (
        <ErrorBox error={versions.error} onRetry={versions.reload} />
      ) : list.length === 0 ? (
        <Empty title="Nothing published yet" testId="versions-empty">
          Publish the draft to create version 1. Runs from webhooks and schedules use the latest published version.
        </Empty>
      ) : (
        <>
          <div className="compare-box">
            <label>
              <span className="small">Compare</span>
              <select aria-label="Compare from" value={a} onChange={(e) => setA(e.target.value)} data-testid="compare-a">
                <option value="">choose…</option>
                {list.map((v) => (
                  <option key={v.version} value={String(v.version)}>
                    v{v.version}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <span className="small">with</span>
              <select aria-label="Compare to" value={b} onChange={(e) => setB(e.target.value)} data-testid="compare-b">
                <option value="draft">Draft</option>
                {list.map((v) => (
                  <option key={v.version} value={String(v.version)}>
                    v{v.version}
                  </option>
                ))}
              </select>
            </label>
            <button type="button" disabled={!a || busy !== null} onClick={() => void compare(a, b)} data-testid="compare-run">
              Show diff
            </button>
          </div>
          <ol className="versions" data-testid="versions-list">
            {list.map((v) => (
              <li key={v.version} data-testid="version-row" data-version={v.version}>
                <div className="row between">
                  <b>v{v.version}</b>
                  <span className="muted small" title={v.createdAt}>
                    {timeAgo(v.createdAt)}
                  </span>
                </div>
                <div className="small">{v.note || <span className="muted">No note</span>}</div>
                <div className="muted small" data-testid="version-author">
                  by {v.createdBy?.name ?? 'unknown'} · {v.createdAt ? new Date(v.createdAt).toLocaleString() : ''}
                </div>
                <div className="row">
                  <button type="button" className="small-btn" disabled={busy !== null} onClick={() => void compare(String(v.version), 'draft')} data-testid="version-compare-draft">
                    Diff with draft
                  </button>
                  {confirming === v.version ? (
                    <>
                      <button type="button" className="small-btn danger" disabled={busy !== null} onClick={() => void restore(v.version).then(() => setConfirming(null))} data-testid="version-restore-confirm">
                        {busy === `restore-${v.version}` ? 'Restoring…' : `Replace draft with v${v.version}`}
                      </button>
                      <button type="button" className="small-btn" onClick={() => setConfirming(null)}>
                        Cancel
                      </button>
                    </>
                  ) : (
                    <button type="button" className="small-btn" disabled={busy !== null} onClick={() => setConfirming(v.version)} data-testid="version-restore">
                      Restore
                    </button>
                  )}
                </div>
              </li>
            ))}
          </ol>
        </>
      )}
      {error && (
        <div className="state state-error" role="alert" data-testid="versions-error">
          {error}
        </div>
      )}
    </aside>
  );
}
