/**
 * A settings form generated from a node type's JSON Schema: text, numbers, selects, toggles,
 * lists, key/value pairs, a code editor and `{{ }}` expression fields. Errors are shown inline
 * per field (client-side checks plus the server's messages, keyed by dotted path).
 */
import { lazy, Suspense, useState, type ReactNode } from 'react';
import type { JsonSchema } from '../api/types.js';
import { defaultsOf, fieldsOf, getPath, setPath, type Field } from '../lib/schema.js';
import { ExpressionInput, type UpstreamNode } from './expression-input.js';

const CodeInput = lazy(() => import('./code-input.js'));

export interface SchemaFormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (next: Record<string, unknown>, changedPath: string) => void;
  errors?: Record<string, string>;
  upstream?: UpstreamNode[];
  /** Prefix for ids/testids (one form per node). */
  idPrefix?: string;
  readOnly?: boolean;
}

export function SchemaForm({ schema, value, onChange, errors = {}, upstream = [], idPrefix = 'cfg', readOnly }: SchemaFormProps) {
  const fields = fieldsOf(schema, '', value);
  if (fields.length === 0) return <p className="muted small" data-testid="no-settings">This node has no settings.</p>;
  const set = (path: string, v: unknown) => onChange(path ? setPath(value, path, v) : (v as Record<string, unknown>), path || 'variant');
  return (
    <fieldset className="schema-form" disabled={readOnly} data-testid="schema-form">
      {fields.map((f) => (
        <FieldView key={f.path} field={f} root={value} set={set} errors={errors} upstream={upstream} idPrefix={idPrefix} />
      ))}
    </fieldset>
  );
}

interface FieldViewProps {
  field: Field;
  root: Record<string, unknown>;
  set: (path: string, v: unknown) => void;
  errors: Record<string, string>;
  upstream: UpstreamNode[];
  idPrefix: string;
}

function FieldView({ field: f, root, set, errors, upstream, idPrefix }: FieldViewProps) {
  const id = `${idPrefix}-${f.path.replace(/\./g, '-')}`;
  const testId = `field-${f.path}`;
  const v = getPath(root, f.path);
  const err = errors[f.path];
  const errId = err ? `${id}-error` : undefined;
  const descId = f.description ? `${id}-desc` : undefined;
  const describedBy = [errId, descId].filter(Boolean).join(' ') || undefined;

  let control: ReactNode;
  switch (f.kind) {
    case 'text':
      control = (
        <input
          id={id}
          type={f.schema.format === 'uri' ? 'url' : 'text'}
          value={typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v)}
          placeholder={placeholderOf(f)}
          onChange={(e) => set(f.path, e.target.value === '' && !f.required ? undefined : e.target.value)}
          aria-invalid={err ? true : undefined}
          aria-describedby={describedBy}
          data-testid={testId}
        />
      );
      break;
    case 'secret':
      control = (
        <input
          id={id}
          type="password"
          autoComplete="new-password"
          value={typeof v === 'string' ? v : ''}
          placeholder="Write-only: enter a new value to replace"
          onChange={(e) => set(f.path, e.target.value || undefined)}
          aria-invalid={err ? true : undefined}
          aria-describedby={describedBy}
          data-testid={testId}
        />
      );
      break;
    case 'textarea':
    case 'expression':
      control = (
        <ExpressionInput
          id={id}
          rows={f.kind === 'textarea' ? 5 : /prompt|text|content|message|body|description/i.test(f.key) ? 3 : 1}
          value={typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v)}
          onChange={(s) => set(f.path, s === '' && !f.required ? undefined : s)}
          upstream={upstream}
          invalid={!!err}
          testId={testId}
          describedBy={describedBy}
          placeholder={placeholderOf(f)}
        />
      );
      break;
    case 'code':
      control = (
        <Suspense fallback={<textarea id={id} rows={8} className="mono" value={typeof v === 'string' ? v : ''} onChange={(e) => set(f.path, e.target.value)} data-testid={testId} />}>
          <CodeInput id={id} value={typeof v === 'string' ? v : ''} onChange={(s) => set(f.path, s)} testId={testId} />
        </Suspense>
      );
      break;
    case 'number':
    case 'integer':
      control = (
        <NumberInput
          id={id}
          value={v}
          integer={f.kind === 'integer'}
          min={f.schema.minimum}
          max={f.schema.maximum}
          onChange={(n) => set(f.path, n)}
          invalid={!!err}
          describedBy={describedBy}
          testId={testId}
          placeholder={placeholderOf(f)}
        />
      );
      break;
    case 'select':
      control = (
        <select
          id={id}
          value={v === undefined || v === null ? '' : JSON.stringify(v)}
          onChange={(e) => {
            const next = e.target.value === '' ? undefined : JSON.parse(e.target.value);
            if (f.discriminator) {
              // Switching variant: start from the new variant's defaults, keep same-named values.
              const parentPath = f.path.split('.').slice(0, -1).join('.');
              const variant = f.discriminator.variants.find((x) => x.value === next);
              const prev = (parentPath ? getPath(root, parentPath) : root) as Record<string, unknown> | undefined;
              const fresh: Record<string, unknown> = { ...defaultsOf({ oneOf: f.discriminator.variants.map((x) => x.schema) }, next) };
              for (const k of Object.keys(variant?.schema.properties ?? {})) if (prev && prev[k] !== undefined && k !== f.key) fresh[k] = prev[k];
              fresh[f.key] = next;
              set(parentPath, fresh);
            } else set(f.path, next);
          }}
          aria-invalid={err ? true : undefined}
          aria-describedby={describedBy}
          data-testid={testId}
        >
          {(!f.required || v === undefined) && <option value="">—</option>}
          {f.options!.map((o) => (
            <option key={JSON.stringify(o.value)} value={JSON.stringify(o.value)}>
              {o.label}
            </option>
          ))}
        </select>
      );
      break;
    case 'toggle':
      return (
        <div className="field field-toggle">
          <label htmlFor={id}>
            <input
              id={id}
              type="checkbox"
              role="switch"
              checked={v === true}
              onChange={(e) => set(f.path, e.target.checked)}
              aria-describedby={describedBy}
              data-testid={testId}
            />
            <span>{f.label}</span>
          </label>
          {f.description && <small id={descId} className="muted">{f.description}</small>}
          {err && <small id={errId} className="field-error" data-testid={`field-error-${f.path}`} role="alert">{err}</small>}
        </div>
      );
    case 'list':
      control = <ListInput id={id} field={f} value={Array.isArray(v) ? v : []} onChange={(l) => set(f.path, l)} testId={testId} />;
      break;
    case 'objectList': {
      const list = Array.isArray(v) ? (v as Record<string, unknown>[]) : [];
      control = (
        <div className="obj-list" data-testid={testId}>
          {list.map((item, i) => (
            <div key={i} className="obj-item">
              <div className="row between">
                <b className="small">
                  {f.item?.title ?? 'Item'} {i + 1}
                </b>
                <button type="button" className="link danger" aria-label={`Remove ${f.label} item ${i + 1}`} onClick={() => set(f.path, list.filter((_, j) => j !== i))}>
                  Remove
                </button>
              </div>
              {fieldsOf(f.item ?? {}, `${f.path}.${i}`, item).map((sub) => (
                <FieldView key={sub.path} field={sub} root={root} set={set} errors={errors} upstream={upstream} idPrefix={idPrefix} />
              ))}
            </div>
          ))}
          <button type="button" onClick={() => set(f.path, [...list, {}])} data-testid={`${testId}-add`}>
            + Add {(f.item?.title ?? 'item').toLowerCase()}
          </button>
        </div>
      );
      break;
    }
    case 'keyValue':
      control = (
        <KeyValueInput
          id={id}
          value={v}
          asList={f.schema.type === 'array'}
          onChange={(o) => set(f.path, o)}
          testId={testId}
        />
      );
      break;
    case 'object':
      // An optional object without a value (auto-approve, escalation…) stays folded until added.
      if (!f.required && (v === undefined || v === null))
        return (
          <div className="field">
            <button type="button" className="link" onClick={() => set(f.path, defaultsOf(f.schema))} data-testid={`${testId}-enable`}>
              + Add {f.label.toLowerCase()}
            </button>
            {f.description && <small className="muted">{f.description}</small>}
          </div>
        );
      return (
        <fieldset className="field field-object" data-testid={testId}>
          <legend>{f.label}</legend>
          {!f.required && (
            <button type="button" className="link danger obj-remove" onClick={() => set(f.path, undefined)} data-testid={`${testId}-remove`}>
              Remove
            </button>
          )}
          {f.description && <small className="muted">{f.description}</small>}
          {fieldsOf(f.schema, f.path, v).map((sub) => (
            <FieldView key={sub.path} field={sub} root={root} set={set} errors={errors} upstream={upstream} idPrefix={idPrefix} />
          ))}
        </fieldset>
      );
    case 'json':
      control = <JsonInput id={id} value={v} onChange={(x) => set(f.path, x)} testId={testId} />;
      break;
  }

  return (
    <div className={`field${err ? ' has-error' : ''}`}>
      <label htmlFor={id}>
        {f.label}
        {f.required && <span className="req" aria-label="required"> *</span>}
      </label>
      {control}
      {f.description && (
        <small id={descId} className="muted">
          {f.description}
        </small>
      )}
      {err && (
        <small id={errId} className="field-error" data-testid={`field-error-${f.path}`} role="alert">
          {err}
        </small>
      )}
    </div>
  );
}

function placeholderOf(f: Field): string | undefined {
  const ex = (f.schema.examples as unknown[] | undefined)?.[0];
  if (ex !== undefined) return `e.g. ${String(ex)}`;
  return undefined;
}

function NumberInput(props: {
  id: string;
  value: unknown;
  integer: boolean;
  min?: number;
  max?: number;
  onChange: (n: number | undefined) => void;
  invalid: boolean;
  describedBy?: string;
  testId: string;
  placeholder?: string;
}) {
  // Keep the raw text so "1." or "-" can be typed; the config gets the number (or the raw text when
  // it is not a number, so that validation can say so).
  const [text, setText] = useState<string | null>(null);
  const shown = text ?? (props.value === undefined || props.value === null ? '' : String(props.value));
  return (
    <input
      id={props.id}
      type="text"
      inputMode={props.integer ? 'numeric' : 'decimal'}
      value={shown}
      placeholder={props.placeholder}
      onChange={(e) => {
        const t = e.target.value;
        setText(t);
        if (t.trim() === '') props.onChange(undefined);
        else {
          const n = Number(t);
          props.onChange(Number.isFinite(n) ? n : (t as unknown as number));
        }
      }}
      onBlur={() => setText(null)}
      aria-invalid={props.invalid || undefined}
      aria-describedby={props.describedBy}
      data-testid={props.testId}
    />
  );
}

function ListInput({ id, field, value, onChange, testId }: { id: string; field: Field; value: unknown[]; onChange: (l: unknown[]) => void; testId: string }) {
  const item = field.item ?? { type: 'string' };
  const numeric = item.type === 'number' || item.type === 'integer';
  const opts = item.enum;
  return (
    <div className="list-input" id={id} data-testid={testId}>
      {value.map((x, i) => (
        <div key={i} className="row">
          {opts ? (
            <select
              aria-label={`${field.label} ${i + 1}`}
              value={String(x ?? '')}
              onChange={(e) => onChange(value.map((y, j) => (j === i ? e.target.value : y)))}
              data-testid={`${testId}-${i}`}
            >
              {opts.map((o) => (
                <option key={String(o)} value={String(o)}>
                  {String(o)}
                </option>
              ))}
            </select>
          ) : (
            <input
              aria-label={`${field.label} ${i + 1}`}
              value={String(x ?? '')}
              onChange={(e) => onChange(value.map((y, j) => (j === i ? (numeric ? Number(e.target.value) : e.target.value) : y)))}
              data-testid={`${testId}-${i}`}
            />
          )}
          <button type="button" className="icon-btn" aria-label={`Remove ${field.label} ${i + 1}`} onClick={() => onChange(value.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...value, opts ? opts[0] : numeric ? 0 : ''])} data-testid={`${testId}-add`}>
        + Add
      </button>
    </div>
  );
}

function KeyValueInput({ id, value, asList, onChange, testId }: { id: string; value: unknown; asList: boolean; onChange: (o: unknown) => void; testId: string }) {
  // Rows are kept as an array so an empty or duplicate key can be typed without losing the row.
  // The config holds either `[{ key, value }]` (schema type array) or a `{ key: value }` record.
  const [rows, setRows] = useState<[string, string][]>(() =>
    Array.isArray(value)
      ? value.map((r: { key?: unknown; value?: unknown }) => [String(r?.key ?? ''), String(r?.value ?? '')] as [string, string])
      : value && typeof value === 'object'
        ? Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, String(v)] as [string, string])
        : [],
  );
  const commit = (next: [string, string][]) => {
    setRows(next);
    if (asList) {
      onChange(next.map(([key, v]) => ({ key, value: v })));
      return;
    }
    const o: Record<string, string> = {};
    for (const [k, v] of next) o[k] = v;
    onChange(o);
  };
  return (
    <div className="kv-input" id={id} data-testid={testId}>
      {rows.map(([k, v], i) => (
        <div className="row" key={i}>
          <input aria-label={`Key ${i + 1}`} placeholder="key" value={k} onChange={(e) => commit(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} data-testid={`${testId}-key-${i}`} />
          <input aria-label={`Value ${i + 1}`} placeholder="value" value={v} onChange={(e) => commit(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))} data-testid={`${testId}-value-${i}`} />
          <button type="button" className="icon-btn" aria-label={`Remove pair ${i + 1}`} onClick={() => commit(rows.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" onClick={() => (asList ? commit([...rows, ['', '']]) : setRows([...rows, ['', '']]))} data-testid={`${testId}-add`}>
        + Add pair
      </button>
    </div>
  );
}

function JsonInput({ id, value, onChange, testId }: { id: string; value: unknown; onChange: (v: unknown) => void; testId: string }) {
  const [text, setText] = useState(() => (value === undefined ? '' : JSON.stringify(value, null, 2)));
  const [bad, setBad] = useState<string | null>(null);
  return (
    <>
      <textarea
        id={id}
        className="mono"
        rows={4}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') {
            setBad(null);
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setBad(null);
          } catch {
            setBad('Not valid JSON yet');
          }
        }}
        data-testid={testId}
        aria-invalid={bad ? true : undefined}
      />
      {bad && <small className="field-error">{bad}</small>}
    </>
  );
}
