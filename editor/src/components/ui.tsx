/** Small shared UI pieces: loading, empty and error states, modal, status pill, relative time. */
import { useEffect, useRef, type ReactNode } from 'react';
import { ApiError } from '../api/client.js';

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return <span className="spinner" role="status" aria-label={label} />;
}

export function Loading({ what = 'Loading…', testId }: { what?: string; testId?: string }) {
  return (
    <div className="state state-loading" data-testid={testId ?? 'loading'}>
      <Spinner /> <span>{what}</span>
    </div>
  );
}

export function Empty({ title, children, testId }: { title: string; children?: ReactNode; testId?: string }) {
  return (
    <div className="state state-empty" data-testid={testId ?? 'empty'}>
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Your session has ended. Please sign in again.';
    if (err.status === 403) return 'You do not have permission to do this in this workspace.';
    const details = err.details.length ? ` (${err.details.map((d) => `${d.path ? d.path + ': ' : ''}${d.message}`).join('; ')})` : '';
    return `${err.message}${details}`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function ErrorBox({ error, onRetry, testId }: { error: unknown; onRetry?: () => void; testId?: string }) {
  return (
    <div className="state state-error" role="alert" data-testid={testId ?? 'error'}>
      <span>{errorMessage(error)}</span>
      {onRetry && (
        <button type="button" onClick={onRetry} data-testid="retry-load">
          Try again
        </button>
      )}
    </div>
  );
}

export function Modal({ title, onClose, children, testId, wide }: { title: string; onClose: () => void; children: ReactNode; testId?: string; wide?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    ref.current?.querySelector<HTMLElement>('input,textarea,select,button')?.focus();
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={`modal${wide ? ' modal-wide' : ''}`} role="dialog" aria-modal="true" aria-label={title} data-testid={testId} ref={ref}>
        <header className="modal-head">
          <h2>{title}</h2>
          <button type="button" className="icon-btn" aria-label="Close" onClick={onClose} data-testid="modal-close">
            ✕
          </button>
        </header>
        <div className="modal-body">{children}</div>
      </div>
    </div>
  );
}

export function StatusPill({ status, testId }: { status: string | null | undefined; testId?: string }) {
  if (!status) return <span className="pill pill-none" data-testid={testId}>—</span>;
  return (
    <span className={`pill pill-${status}`} data-testid={testId} data-status={status}>
      {status}
    </span>
  );
}

export function timeAgo(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = new Date(iso).getTime();
  if (Number.isNaN(t)) return '—';
  const s = Math.round((Date.now() - t) / 1000);
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  if (s < 86400 * 30) return `${Math.round(s / 86400)} d ago`;
  return new Date(iso).toLocaleDateString();
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function JsonView({ value, testId, label }: { value: unknown; testId?: string; label?: string }) {
  const text = value === undefined ? '—' : JSON.stringify(value, null, 2);
  return (
    <pre className="json" data-testid={testId} aria-label={label}>
      {text}
    </pre>
  );
}
