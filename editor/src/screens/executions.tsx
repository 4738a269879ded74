/** Execution history (per grid or workspace-wide) with status filter and cursor pagination; live refresh. */
import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/client.js';
import { subscribeGrid } from '../api/live.js';
import type { ExecutionSummary } from '../api/types.js';
import { Empty, ErrorBox, Loading, StatusPill, formatDuration, timeAgo } from '../components/ui.js';
import { useAsync } from '../components/use-async.js';
import { href } from '../router.js';

const STATUSES = ['', 'running', 'waiting', 'completed', 'failed', 'cancelled', 'pending'];

export function ExecutionsScreen({ gridId }: { gridId?: string }) {
  const [status, setStatus] = useState('');
  const [pages, setPages] = useState<ExecutionSummary[][]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<unknown>(null);
  const grid = useAsync(() => (gridId ? api.getGrid(gridId) : Promise.resolve(null)), [gridId]);
  const first = useAsync(() => api.executions({ gridId, status: status || undefined }), [gridId, status]);

  useEffect(() => {
    if (first.data) {
      setPages([first.data.items]);
      setCursor(first.data.nextCursor);
    }
  }, [first.data]);

  const { reload } = first;
  const onEvent = useCallback(() => reload(), [reload]);
  useEffect(() => {
    if (!gridId) return;
    let t: ReturnType<typeof setTimeout> | null = null;
    const unsub = subscribeGrid(gridId, (e) => {
      if (e.type !== 'run') return;
      if (t) clearTimeout(t);
      t = setTimeout(onEvent, 300);
    });
    return () => {
      unsub();
      if (t) clearTimeout(t);
    };
  }, [gridId, onEvent]);

  async function more() {
    if (!cursor) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const p = await api.executions({ gridId, status: status || undefined, cursor });
      setPages((ps) => [...ps, p.items]);
      setCursor(p.nextCursor);
    } catch (e) {
      setMoreError(e);
    } finally {
      setLoadingMore(false);
    }
  }

  const items = pages.flat();
  return (
    <section className="page" aria-labelledby="exec-title">
      <header className="page-head">
        <h1 id="exec-title">
          {gridId ? (
            <>
              <a href={href(`/grids/${gridId}`)}>{grid.data?.name ?? 'Grid'}</a> · runs
            </>
          ) : (
            'Runs'
          )}
        </h1>
        <div className="row">
          <select aria-label="Filter by status" value={status} onChange={(e) => setStatus(e.target.value)} data-testid="executions-status-filter">
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s || 'All statuses'}
              </option>
            ))}
          </select>
          <button type="button" onClick={reload} data-testid="executions-refresh">
            Refresh
          </button>
        </div>
      </header>
      {first.loading && !first.data ? (
        <Loading what="Loading runs…" />
      ) : first.error ? (
        <ErrorBox error={first.error} onRetry={reload} />
      ) : items.length === 0 ? (
        <Empty title={status ? `No ${status} runs` : 'No runs yet'} testId="executions-empty">
          Start one with ▶ Run in the editor, or call the grid&apos;s webhook.
        </Empty>
      ) : (
        <table className="table" data-testid="executions-table">
          <thead>
            <tr>
              <th>Status</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Trigger</th>
              <th>Error</th>
              <th>
                <span className="sr-only">Open</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id} data-testid="execution-row" data-status={e.status}>
                <td>
                  <StatusPill status={e.status} />
                </td>
                <td title={e.startedAt ?? e.createdAt}>{timeAgo(e.startedAt ?? e.createdAt)}</td>
                <td>{e.startedAt ? formatDuration((e.finishedAt ? new Date(e.finishedAt).getTime() : Date.now()) - new Date(e.startedAt).getTime()) : '—'}</td>
                <td>{e.triggerType}</td>
                <td className="small field-error">{e.error?.message ?? ''}</td>
                <td>
                  <a href={href(`/grids/${e.gridId}?execution=${e.id}`)} data-testid="execution-open">
                    Open on canvas
                  </a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {moreError !== null && <ErrorBox error={moreError} onRetry={() => void more()} />}
      {cursor && (
        <button type="button" onClick={() => void more()} disabled={loadingMore} data-testid="executions-more">
          {loadingMore ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
