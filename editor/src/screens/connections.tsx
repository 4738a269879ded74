/** Social accounts: connect, replace the token (write-only: never shown again), remove. */
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client.js';
import type { SocialAccount } from '../api/types.js';
import { Empty, ErrorBox, Loading, StatusPill, errorMessage, timeAgo } from '../components/ui.js';
import { useAsync } from '../components/use-async.js';

const PLATFORMS = [
  ['linkedin', 'LinkedIn'],
  ['x', 'X'],
  ['facebook', 'Facebook'],
  ['instagram', 'Instagram'],
] as const;

export function ConnectionsScreen() {
  const accounts = useAsync(() => api.socialAccounts(), []);
  const [editing, setEditing] = useState<SocialAccount | 'new' | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function remove(a: SocialAccount) {
    setError(null);
    try {
      await api.deleteSocialAccount(a.id);
      accounts.reload();
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  return (
    <section className="page" aria-labelledby="connections-title">
      <header className="page-head">
        <h1 id="connections-title">Connections</h1>
        <button type="button" className="primary" onClick={() => setEditing('new')} data-testid="account-new">
          Connect an account
        </button>
      </header>
      <p className="muted small">Access tokens are stored encrypted and are never shown again; you can only replace them.</p>
      {error && (
        <div className="state state-error" role="alert">
          {error}
        </div>
      )}
      {editing && <AccountForm account={editing === 'new' ? null : editing} onDone={() => (setEditing(null), accounts.reload())} onCancel={() => setEditing(null)} />}
      {accounts.loading && !accounts.data ? (
        <Loading what="Loading accounts…" />
      ) : accounts.error ? (
        <ErrorBox error={accounts.error} onRetry={accounts.reload} />
      ) : (accounts.data ?? []).length === 0 ? (
        <Empty title="No social account connected" testId="accounts-empty">
          Grids still run: publish nodes use the built-in fake connector until you connect an account.
        </Empty>
      ) : (
        <table className="table" data-testid="accounts-table">
          <thead>
            <tr>
              <th>Platform</th>
              <th>Account</th>
              <th>Status</th>
              <th>Token</th>
              <th>Connected</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {accounts.data!.map((a) => (
              <tr key={a.id} data-testid="account-row">
                <td>{PLATFORMS.find((p) => p[0] === a.platform)?.[1] ?? a.platform}</td>
                <td>
                  {a.displayName ?? a.username ?? a.platformAccountId}
                  {a.username && <span className="muted small"> @{a.username}</span>}
                </td>
                <td>
                  <StatusPill status={a.status} />
                </td>
                <td data-testid="account-token">{a.hasAccessToken ? '•••••• stored' : 'missing'}</td>
                <td>{timeAgo(a.createdAt)}</td>
                <td className="row">
                  <button type="button" className="small-btn" onClick={() => setEditing(a)} data-testid="account-edit">
                    Replace token
                  </button>
                  <button type="button" className="small-btn danger" onClick={() => void remove(a)} data-testid="account-delete" aria-label={`Remove ${a.platform} account`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function AccountForm({ account, onDone, onCancel }: { account: SocialAccount | null; onDone: () => void; onCancel: () => void }) {
  const [platform, setPlatform] = useState(account?.platform ?? 'linkedin');
  const [platformAccountId, setAccountId] = useState(account?.platformAccountId ?? '');
  const [displayName, setDisplayName] = useState(account?.displayName ?? '');
  const [username, setUsername] = useState(account?.username ?? '');
  const [accessToken, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      if (account) await api.saveSocialAccount(account.id, { displayName, username, accessToken: accessToken || undefined });
      else await api.saveSocialAccount(null, { platform, platformAccountId, displayName, username, accessToken });
      onDone();
    } catch (err) {
      if (err instanceof ApiError) setFieldErrors(Object.fromEntries(err.details.map((d) => [d.path.replace(/^body\./, ''), d.message])));
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const fe = (k: string) => fieldErrors[k] && <small className="field-error">{fieldErrors[k]}</small>;
  return (
    <form className="card form-card" onSubmit={submit} data-testid="account-form" aria-label={account ? 'Replace token' : 'Connect an account'}>
      <h2>{account ? `Update ${account.platform} account` : 'Connect an account'}</h2>
      {!account && (
        <>
          <label className="field">
            <span>Platform</span>
            <select value={platform} onChange={(e) => setPlatform(e.target.value)} data-testid="account-platform">
              {PLATFORMS.map(([v, l]) => (
                <option key={v} value={v}>
                  {l}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Account id on the platform</span>
            <input required value={platformAccountId} onChange={(e) => setAccountId(e.target.value)} data-testid="account-id" />
            {fe('platformAccountId')}
          </label>
        </>
      )}
      <label className="field">
        <span>Display name</span>
        <input value={displayName} onChange={(e) => setDisplayName(e.target.value)} data-testid="account-display-name" />
      </label>
      <label className="field">
        <span>Username</span>
        <input value={username} onChange={(e) => setUsername(e.target.value)} data-testid="account-username" />
      </label>
      <label className="field">
        <span>Access token {account ? '(leave empty to keep the stored one)' : ''}</span>
        <input type="password" autoComplete="new-password" required={!account} value={accessToken} onChange={(e) => setToken(e.target.value)} data-testid="account-token-input" />
        {fe('accessToken')}
      </label>
      {error && (
        <div className="state state-error" role="alert" data-testid="account-error">
          {error}
        </div>
      )}
      <div className="row end">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy} data-testid="account-save">
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}
