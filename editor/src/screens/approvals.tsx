/** Approvals inbox: content with a platform preview and character count, brand-guard score, decide with a comment; live. */
import { useEffect, useState } from 'react';
import { api } from '../api/client.js';
import { subscribeNotifications } from '../api/live.js';
import type { Approval } from '../api/types.js';
import { Empty, ErrorBox, Loading, StatusPill, errorMessage, timeAgo } from '../components/ui.js';
import { useAsync } from '../components/use-async.js';
import { href } from '../router.js';
import { approvalContextFrom, type ApprovalContext } from '../lib/approval-context.js';

export const PLATFORM_LIMITS: Record<string, number> = { x: 280, twitter: 280, linkedin: 3000, instagram: 2200, facebook: 63206 };
const PLATFORM_LABEL: Record<string, string> = { x: 'X', twitter: 'X', linkedin: 'LinkedIn', instagram: 'Instagram', facebook: 'Facebook' };

export function ApprovalsScreen() {
  const [status, setStatus] = useState<'pending' | 'approved' | 'rejected'>('pending');
  const approvals = useAsync(() => api.approvals(status), [status]);
  const { reload } = approvals;

  useEffect(() => {
    const unsub = subscribeNotifications((n) => {
      if (n.type.startsWith('approval')) reload();
    });
    // Safety net while the page is open (decisions by other people are not pushed to us).
    const t = setInterval(reload, 10_000);
    return () => {
      unsub();
      clearInterval(t);
    };
  }, [reload]);

  return (
    <section className="page" aria-labelledby="approvals-title">
      <header className="page-head">
        <h1 id="approvals-title">Approvals</h1>
        <div className="tabs" role="tablist">
          {(['pending', 'approved', 'rejected'] as const).map((s) => (
            <button type="button" role="tab" key={s} aria-selected={status === s} onClick={() => setStatus(s)} data-testid={`approvals-tab-${s}`}>
              {s}
            </button>
          ))}
        </div>
      </header>
      {approvals.loading && !approvals.data ? (
        <Loading what="Loading approvals…" />
      ) : approvals.error ? (
        <ErrorBox error={approvals.error} onRetry={reload} />
      ) : (approvals.data ?? []).length === 0 ? (
        <Empty title={status === 'pending' ? 'Nothing waiting for you' : `No ${status} approvals`} testId="approvals-empty">
          {status === 'pending' ? 'When a grid reaches an approval step, the content to review appears here.' : null}
        </Empty>
      ) : (
        <div className="cards" data-testid="approvals-list">
          {approvals.data!.map((a) => (
            <ApprovalCard key={a.id} approval={a} onDecided={reload} />
          ))}
        </div>
      )}
    </section>
  );
}

function ApprovalCard({ approval: request, onDecided }: { approval: Approval; onDecided: () => void }) {
  // The request stores only the text: platform and brand-guard result come from the run's upstream steps.
  const [ctx, setCtx] = useState<ApprovalContext | null>(null);
  const needsCtx = !request.guard || !request.content.platform;
  useEffect(() => {
    if (!needsCtx || !request.executionId) return;
    let live = true;
    (async () => {
      const e = await api.execution(request.executionId);
      // The execution detail carries no document: the grid's (draft) document gives the node graph.
      const gridId = request.gridId || e.gridId;
      const document = e.document ?? (gridId ? (await api.getGrid(gridId)).document : null);
      if (live) setCtx(approvalContextFrom({ steps: e.steps, document }, request.nodeId));
    })().catch(() => {});
    return () => {
      live = false;
    };
  }, [needsCtx, request.executionId, request.gridId, request.nodeId]);
  const a: Approval = ctx
    ? { ...request, guard: request.guard ?? ctx.guard, content: { ...request.content, platform: request.content.platform || ctx.platform } }
    : request;
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState<'approve' | 'reject' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const platform = (a.content.platform ?? '').toLowerCase();
  const limit = PLATFORM_LIMITS[platform];
  const chars = [...a.content.text].length;

  async function decide(d: 'approve' | 'reject') {
    if (d === 'reject' && !comment.trim()) {
      setError('Say why you reject it, so the author can fix it.');
      return;
    }
    setBusy(d);
    setError(null);
    try {
      await api.decide(a.id, d, comment.trim());
      onDecided();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  return (
    <article className="card approval" data-testid="approval-card" data-approval-id={a.id} aria-label={a.title ?? 'Approval'}>
      <header className="row between">
        <div>
          <h2>{a.title ?? 'Content to review'}</h2>
          <div className="muted small">
            requested {timeAgo(a.createdAt)}
            {a.dueAt ? ` · due ${new Date(a.dueAt).toLocaleString()}` : ''}
            {a.gridId ? (
              <>
                {' · '}
                <a href={href(`/grids/${a.gridId}?execution=${a.executionId}`)} data-testid="approval-run-link">
                  {a.gridName ?? 'open the run'}
                </a>
              </>
            ) : null}
          </div>
        </div>
        <StatusPill status={a.status} />
      </header>
      {a.summary && a.summary.trim() !== a.content.text.trim() && <p className="small">{a.summary}</p>}
      <div className={`post-preview platform-${platform || 'generic'}`} data-testid="approval-preview">
        <div className="post-head">
          <span className="avatar" aria-hidden>
            ▦
          </span>
          <b>{PLATFORM_LABEL[platform] ?? (platform || 'Post')}</b>
        </div>
        <p className="post-text" data-testid="approval-text">
          {a.content.text || <span className="muted">(no text)</span>}
        </p>
        {a.content.hashtags && a.content.hashtags.length > 0 && <p className="post-tags">{a.content.hashtags.map((h) => `#${h.replace(/^#/, '')}`).join(' ')}</p>}
        <div className={`char-count${limit && chars > limit ? ' over' : ''}`} data-testid="approval-char-count">
          {chars}
          {limit ? ` / ${limit}` : ''} characters
        </div>
      </div>
      {a.guard && (
        <div className="guard" data-testid="approval-guard">
          <div className="row">
            <b>Brand guard</b>
            <span className={`score ${a.guard.passed === false ? 'bad' : a.guard.score >= 0.7 || a.guard.score >= 70 ? 'good' : 'warn'}`} data-testid="approval-guard-score">
              {a.guard.score <= 1 ? Math.round(a.guard.score * 100) : Math.round(a.guard.score)} / 100
            </span>
          </div>
          {a.guard.violations.length === 0 ? (
            <p className="small muted">No violations.</p>
          ) : (
            <ul className="small" data-testid="approval-violations">
              {a.guard.violations.map((v, i) => (
                <li key={i}>
                  {v.severity ? <b>{v.severity}: </b> : null}
                  {v.message}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      {a.status === 'pending' &&
        (a.canDecide ? (
          <>
            <label className="field" htmlFor={`comment-${a.id}`}>
              <span className="small">Comment (required to reject)</span>
              <textarea id={`comment-${a.id}`} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} data-testid="approval-comment" />
            </label>
            {error && (
              <div className="state state-error" role="alert" data-testid="approval-error">
                {error}
              </div>
            )}
            <div className="row end">
              <button type="button" className="danger" disabled={busy !== null} onClick={() => void decide('reject')} data-testid="approval-reject">
                {busy === 'reject' ? 'Rejecting…' : 'Reject'}
              </button>
              <button type="button" className="primary" disabled={busy !== null} onClick={() => void decide('approve')} data-testid="approval-approve">
                {busy === 'approve' ? 'Approving…' : 'Approve'}
              </button>
            </div>
          </>
        ) : (
          <p className="muted small">Another approver decides this step.</p>
        ))}
      {a.status !== 'pending' && a.comment && <p className="small">“{a.comment}”</p>}
    </article>
  );
}
