/** Webhook trigger details: the URL to call, the signing secret and a ready-to-paste curl example. */
import { useState } from 'react';

export function WebhookDetails({ path, url: serverUrl, secret, signed }: { path: string; url?: string; secret: string | null; signed: boolean }) {
  const [show, setShow] = useState(false);
  const url = serverUrl ?? `${location.origin}/hooks/${path || '<path>'}`;
  const body = `{"title":"New article","url":"https://example.com/blog/post"}`;
  const curl = signed
    ? [
        `BODY='${body}'`,
        `TS=$(date +%s)`,
        `SIG=$(printf '%s.%s' "$TS" "$BODY" | openssl dgst -sha256 -hmac '${show && secret ? secret : '<secret>'}' | cut -d' ' -f2)`,
        `curl -X POST '${url}' \\`,
        `  -H 'Content-Type: application/json' \\`,
        `  -H "X-Gridflow-Timestamp: $TS" \\`,
        `  -H "X-Gridflow-Signature: sha256=$SIG" \\`,
        `  -H 'Idempotency-Key: article-42' \\`,
        `  -d "$BODY"`,
      ].join('\n')
    : [`curl -X POST '${url}' \\`, `  -H 'Content-Type: application/json' \\`, `  -H 'Idempotency-Key: article-42' \\`, `  -d '${body}'`].join('\n');
  return (
    <section className="webhook" aria-label="Webhook details" data-testid="webhook-details">
      <h3>Webhook</h3>
      {!path && <p className="field-error">Set a path above to get the webhook URL.</p>}
      {!serverUrl && <p className="muted small">The URL becomes active when the grid is published.</p>}
      <div className="field">
        <label htmlFor="webhook-url">URL (runs the published version)</label>
        <div className="row">
          <input id="webhook-url" readOnly value={url} data-testid="webhook-url" />
          <button type="button" onClick={() => void navigator.clipboard?.writeText(url).catch(() => {})} aria-label="Copy webhook URL">
            Copy
          </button>
        </div>
      </div>
      <div className="field">
        <label htmlFor="webhook-secret">Signing secret</label>
        {secret ? (
          <div className="row">
            <input id="webhook-secret" readOnly type={show ? 'text' : 'password'} value={secret} data-testid="webhook-secret" />
            <button type="button" onClick={() => setShow((s) => !s)} data-testid="webhook-secret-toggle">
              {show ? 'Hide' : 'Show'}
            </button>
          </div>
        ) : signed ? (
          <p className="muted small">Signed with HMAC-SHA256. The secret is shown once, when it is created (on publish or with “New secret”).</p>
        ) : (
          <p className="muted small">Unsigned: anyone with the URL can start this grid. Set authentication to “hmac” to require a signature.</p>
        )}
      </div>
      <label className="small" htmlFor="webhook-curl">
        Example
      </label>
      <pre id="webhook-curl" className="json" data-testid="webhook-curl">
        {curl}
      </pre>
    </section>
  );
}
