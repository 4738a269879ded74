import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client.js';
import type { Me } from '../api/types.js';
import { errorMessage } from '../components/ui.js';

export function LoginScreen({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const [mode, setMode] = useState<'login' | 'signup'>(location.hash.includes('signup') ? 'signup' : 'login');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const [workspaceName, setWorkspaceName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      const me = mode === 'login' ? await api.login({ email, password }) : await api.signup({ email, password, name, workspaceName });
      if (location.hash.includes('login') || location.hash.includes('signup') || !location.hash) location.hash = '#/grids';
      onSignedIn(me);
    } catch (err) {
      if (err instanceof ApiError && err.details.length) {
        const fe: Record<string, string> = {};
        for (const d of err.details) fe[d.path.split('.').pop() ?? d.path] = d.message;
        setFieldErrors(fe);
      }
      setError(err instanceof ApiError && err.status === 401 ? 'Wrong email or password.' : errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const field = (id: string, label: string, value: string, set: (v: string) => void, type = 'text', auto?: string) => (
    <label className="field" htmlFor={`auth-${id}`}>
      <span>{label}</span>
      <input
        id={`auth-${id}`}
        data-testid={`auth-${id}`}
        type={type}
        value={value}
        autoComplete={auto}
        required
        onChange={(e) => set(e.target.value)}
        aria-invalid={fieldErrors[id] ? true : undefined}
      />
      {fieldErrors[id] && <small className="field-error">{fieldErrors[id]}</small>}
    </label>
  );

  return (
    <main className="auth-page">
      <form className="auth-card" onSubmit={submit} data-testid={`${mode}-form`} aria-label={mode === 'login' ? 'Sign in' : 'Create account'}>
        <h1 className="brand">
          <span aria-hidden>▦</span> Gridflow
        </h1>
        <p className="muted">Visual workflows for content and marketing teams.</p>
        <div className="tabs" role="tablist">
          <button type="button" role="tab" aria-selected={mode === 'login'} data-testid="tab-login" onClick={() => setMode('login')}>
            Sign in
          </button>
          <button type="button" role="tab" aria-selected={mode === 'signup'} data-testid="tab-signup" onClick={() => setMode('signup')}>
            Create account
          </button>
        </div>
        {mode === 'signup' && field('name', 'Your name', name, setName, 'text', 'name')}
        {field('email', 'Email', email, setEmail, 'email', 'email')}
        {field('password', 'Password', password, setPassword, 'password', mode === 'login' ? 'current-password' : 'new-password')}
        {mode === 'signup' && field('workspaceName', 'Workspace name', workspaceName, setWorkspaceName, 'text', 'organization')}
        {error && (
          <div className="state state-error" role="alert" data-testid="auth-error">
            {error}
          </div>
        )}
        <button className="primary" type="submit" disabled={busy} data-testid="auth-submit">
          {busy ? 'Please wait…' : mode === 'login' ? 'Sign in' : 'Create account'}
        </button>
      </form>
    </main>
  );
}
