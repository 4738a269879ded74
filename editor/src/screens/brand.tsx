/** Brand profiles: palette, fonts, voice and tone, banned/required terms, enforcement, knowledge entries. */
import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client.js';
import type { BrandProfile } from '../api/types.js';
import { Empty, ErrorBox, Loading, errorMessage, timeAgo } from '../components/ui.js';
import { useAsync } from '../components/use-async.js';

const blank: Omit<BrandProfile, 'id'> = {
  name: '',
  palette: { primary: '#0A66C2', secondary: '#111827', accent: '#F59E0B', extra: [] },
  fonts: { heading: 'Inter', body: 'Inter' },
  voiceTone: '',
  toneKeywords: [],
  bannedTerms: [],
  requiredTerms: [],
  enforcementLevel: 'advisory',
  minComplianceScore: 0.7,
};

export function BrandScreen() {
  const profiles = useAsync(() => api.brandProfiles(), []);
  const [selected, setSelected] = useState<string | 'new' | null>(null);
  const list = profiles.data ?? [];
  const current = selected === 'new' ? null : (list.find((p) => p.id === selected) ?? list[0] ?? null);
  const creating = selected === 'new' || (!profiles.loading && list.length === 0 && selected !== null);

  return (
    <section className="page" aria-labelledby="brand-title">
      <header className="page-head">
        <h1 id="brand-title">Brand profiles</h1>
        <button type="button" className="primary" onClick={() => setSelected('new')} data-testid="brand-new">
          New brand profile
        </button>
      </header>
      {profiles.loading && !profiles.data ? (
        <Loading what="Loading brand profiles…" />
      ) : profiles.error ? (
        <ErrorBox error={profiles.error} onRetry={profiles.reload} />
      ) : list.length === 0 && !creating ? (
        <Empty title="No brand profile yet" testId="brand-empty">
          A brand profile tells the writer and the brand guard how your brand sounds and what it never says.
        </Empty>
      ) : (
        <div className="split">
          <nav className="list-nav" aria-label="Brand profiles">
            {list.map((p) => (
              <button type="button" key={p.id} aria-pressed={current?.id === p.id && !creating} onClick={() => setSelected(p.id)} data-testid="brand-item">
                <span className="swatches" aria-hidden>
                  {[p.palette.primary, p.palette.secondary, p.palette.accent].filter(Boolean).map((c) => (
                    <span key={c} style={{ background: c }} />
                  ))}
                </span>
                {p.name}
              </button>
            ))}
          </nav>
          <div className="split-main">
            <BrandForm
              key={creating ? 'new' : current?.id}
              profile={creating ? null : current}
              onSaved={(p) => {
                profiles.reload();
                setSelected(p.id);
              }}
              onDeleted={() => {
                profiles.reload();
                setSelected(null);
              }}
            />
            {!creating && current && <Knowledge brandId={current.id} />}
          </div>
        </div>
      )}
    </section>
  );
}

const splitTerms = (s: string) =>
  s
    .split(/[\n,]/)
    .map((x) => x.trim())
    .filter(Boolean);

function BrandForm({ profile, onSaved, onDeleted }: { profile: BrandProfile | null; onSaved: (p: BrandProfile) => void; onDeleted: () => void }) {
  const [p, setP] = useState<Omit<BrandProfile, 'id'>>(profile ?? blank);
  const [terms, setTerms] = useState({ banned: p.bannedTerms.join(', '), required: p.requiredTerms.join(', '), tone: p.toneKeywords.join(', ') });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [saved, setSaved] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setFieldErrors({});
    setSaved(false);
    try {
      const out = await api.saveBrandProfile({
        ...(profile ? { id: profile.id } : {}),
        name: p.name,
        palette: p.palette,
        fonts: p.fonts,
        voiceTone: p.voiceTone,
        toneKeywords: splitTerms(terms.tone),
        bannedTerms: splitTerms(terms.banned),
        requiredTerms: splitTerms(terms.required),
        enforcementLevel: p.enforcementLevel,
        minComplianceScore: p.minComplianceScore,
      });
      setSaved(true);
      onSaved(out);
    } catch (err) {
      if (err instanceof ApiError) setFieldErrors(Object.fromEntries(err.details.map((d) => [d.path.replace(/^body\./, ''), d.message])));
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    if (!profile) return;
    try {
      await api.deleteBrandProfile(profile.id);
      onDeleted();
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  const color = (key: 'primary' | 'secondary' | 'accent', label: string) => (
    <label className="field color-field">
      <span>{label}</span>
      <span className="row">
        <input type="color" value={p.palette[key] ?? '#000000'} onChange={(e) => setP({ ...p, palette: { ...p.palette, [key]: e.target.value } })} aria-label={`${label} colour picker`} />
        <input value={p.palette[key] ?? ''} onChange={(e) => setP({ ...p, palette: { ...p.palette, [key]: e.target.value } })} data-testid={`brand-color-${key}`} aria-label={`${label} colour`} />
      </span>
      {fieldErrors[`palette.${key}`] && <small className="field-error">{fieldErrors[`palette.${key}`]}</small>}
    </label>
  );

  return (
    <form className="card form-card" onSubmit={submit} data-testid="brand-form" aria-label="Brand profile">
      <label className="field">
        <span>Name</span>
        <input required value={p.name} onChange={(e) => setP({ ...p, name: e.target.value })} data-testid="brand-name" />
        {fieldErrors.name && <small className="field-error">{fieldErrors.name}</small>}
      </label>
      <fieldset className="row wrap">
        <legend>Palette</legend>
        {color('primary', 'Primary')}
        {color('secondary', 'Secondary')}
        {color('accent', 'Accent')}
      </fieldset>
      <fieldset className="row wrap">
        <legend>Fonts</legend>
        <label className="field">
          <span>Headings</span>
          <input value={p.fonts.heading ?? ''} onChange={(e) => setP({ ...p, fonts: { ...p.fonts, heading: e.target.value } })} data-testid="brand-font-heading" />
        </label>
        <label className="field">
          <span>Body</span>
          <input value={p.fonts.body ?? ''} onChange={(e) => setP({ ...p, fonts: { ...p.fonts, body: e.target.value } })} data-testid="brand-font-body" />
        </label>
      </fieldset>
      <label className="field">
        <span>Voice and tone</span>
        <textarea rows={3} value={p.voiceTone} onChange={(e) => setP({ ...p, voiceTone: e.target.value })} placeholder="Confident, warm, never salesy. Short sentences." data-testid="brand-voice" />
      </label>
      <label className="field">
        <span>Tone keywords (comma-separated)</span>
        <input value={terms.tone} onChange={(e) => setTerms({ ...terms, tone: e.target.value })} data-testid="brand-tone" />
      </label>
      <label className="field">
        <span>Banned terms (comma-separated)</span>
        <textarea rows={2} value={terms.banned} onChange={(e) => setTerms({ ...terms, banned: e.target.value })} data-testid="brand-banned" />
      </label>
      <label className="field">
        <span>Required terms (comma-separated)</span>
        <textarea rows={2} value={terms.required} onChange={(e) => setTerms({ ...terms, required: e.target.value })} data-testid="brand-required" />
      </label>
      <div className="row wrap">
        <label className="field">
          <span>Enforcement</span>
          <select value={p.enforcementLevel} onChange={(e) => setP({ ...p, enforcementLevel: e.target.value as BrandProfile['enforcementLevel'] })} data-testid="brand-enforcement">
            <option value="off">Off</option>
            <option value="advisory">Advisory (warn)</option>
            <option value="strict">Strict (block)</option>
          </select>
        </label>
        <label className="field">
          <span>Minimum score ({Math.round(p.minComplianceScore * 100)})</span>
          <input type="range" min={0} max={100} value={Math.round(p.minComplianceScore * 100)} onChange={(e) => setP({ ...p, minComplianceScore: Number(e.target.value) / 100 })} data-testid="brand-min-score" />
        </label>
      </div>
      {error && (
        <div className="state state-error" role="alert" data-testid="brand-error">
          {error}
        </div>
      )}
      {saved && (
        <div className="state" role="status" data-testid="brand-saved">
          Saved.
        </div>
      )}
      <div className="row end">
        {profile && (
          <button type="button" className="danger" onClick={() => void remove()} data-testid="brand-delete">
            Delete
          </button>
        )}
        <button type="submit" className="primary" disabled={busy} data-testid="brand-save">
          {busy ? 'Saving…' : 'Save profile'}
        </button>
      </div>
    </form>
  );
}

function Knowledge({ brandId }: { brandId: string }) {
  const entries = useAsync(() => api.knowledge(brandId), [brandId]);
  const [title, setTitle] = useState('');
  const [content, setContent] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function add(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.addKnowledge(brandId, { content, ...(title ? { title } : {}) });
      setTitle('');
      setContent('');
      entries.reload();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="knowledge-title" data-testid="knowledge">
      <h2 id="knowledge-title">Knowledge entries</h2>
      <p className="muted small">Facts, sample posts and guidelines the writer can retrieve (embedded when saved).</p>
      {entries.loading && !entries.data ? (
        <Loading />
      ) : entries.error ? (
        <ErrorBox error={entries.error} onRetry={entries.reload} />
      ) : (entries.data ?? []).length === 0 ? (
        <Empty title="No entries yet" testId="knowledge-empty" />
      ) : (
        <ul className="knowledge-list">
          {entries.data!.map((k) => (
            <li key={k.id} data-testid="knowledge-item">
              <div className="row between">
                <b>{k.title}</b>
                <span className="row">
                  <span className="muted small">{timeAgo(k.createdAt)}</span>
                  <button
                    type="button"
                    className="small-btn danger"
                    aria-label={`Delete ${k.title}`}
                    onClick={() => void api.deleteKnowledge(k.id).then(entries.reload, (e: unknown) => setError(errorMessage(e)))}
                  >
                    Delete
                  </button>
                </span>
              </div>
              <p className="small">{k.content.length > 300 ? `${k.content.slice(0, 300)}…` : k.content}</p>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={add} aria-label="Add a knowledge entry">
        <label className="field">
          <span>Title</span>
          <input value={title} onChange={(e) => setTitle(e.target.value)} data-testid="knowledge-title-input" />
        </label>
        <label className="field">
          <span>Content</span>
          <textarea required rows={3} value={content} onChange={(e) => setContent(e.target.value)} data-testid="knowledge-content" />
        </label>
        {error && (
          <div className="state state-error" role="alert">
            {error}
          </div>
        )}
        <button type="submit" disabled={busy || !content.trim()} data-testid="knowledge-add">
          {busy ? 'Adding…' : 'Add entry'}
        </button>
      </form>
    </section>
  );
}
