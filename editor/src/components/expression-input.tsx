/**
 * A text field that understands `{{ }}` expressions: expressions are highlighted in place (a
 * mirror layer behind a transparent textarea) and a picker inserts upstream nodes' output fields
 * at the caret.
 */
import { useRef, useState, type UIEvent } from 'react';
import { nodeFieldExpression, parseTemplate, insertAt } from '../lib/template.js';

export interface UpstreamNode {
  id: string;
  name: string;
  fields: string[];
}

export function ExpressionInput({
  id,
  value,
  onChange,
  upstream,
  rows = 2,
  invalid,
  testId,
  describedBy,
  placeholder,
}: {
  id: string;
  value: string;
  onChange: (v: string) => void;
  upstream: UpstreamNode[];
  rows?: number;
  invalid?: boolean;
  testId: string;
  describedBy?: string;
  placeholder?: string;
}) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const mirror = useRef<HTMLPreElement>(null);
  const [open, setOpen] = useState(false);
  const caret = useRef<{ start: number; end: number }>({ start: value.length, end: value.length });

  const remember = () => {
    const el = ref.current;
    if (el) caret.current = { start: el.selectionStart, end: el.selectionEnd };
  };

  const insert = (text: string) => {
    const { start, end } = caret.current;
    const s = Math.min(start, value.length);
    const r = insertAt(value, s, Math.min(Math.max(end, s), value.length), text);
    onChange(r.value);
    setOpen(false);
    requestAnimationFrame(() => {
      const el = ref.current;
      if (el) {
        el.focus();
        el.setSelectionRange(r.caret, r.caret);
        caret.current = { start: r.caret, end: r.caret };
      }
    });
  };

  const onScroll = (e: UIEvent<HTMLTextAreaElement>) => {
    if (mirror.current) mirror.current.scrollTop = e.currentTarget.scrollTop;
  };

  return (
    <div className="expr">
      <div className="expr-box">
        <pre className="expr-mirror" aria-hidden ref={mirror}>
          {parseTemplate(value).map((seg, i) => (
            <span key={i} className={seg.kind === 'text' ? undefined : seg.kind === 'expr' ? 'tok-expr' : 'tok-bad'}>
              {value.slice(seg.start, seg.end)}
            </span>
          ))}
          {'\n'}
        </pre>
        <textarea
          id={id}
          ref={ref}
          rows={rows}
          value={value}
          spellCheck={false}
          placeholder={placeholder}
          onChange={(e) => {
            onChange(e.target.value);
            caret.current = { start: e.target.selectionStart, end: e.target.selectionEnd };
          }}
          onSelect={remember}
          onKeyUp={remember}
          onClick={remember}
          onScroll={onScroll}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
          data-testid={testId}
        />
      </div>
      <div className="expr-tools">
        <button type="button" className="link" onClick={() => setOpen((o) => !o)} aria-expanded={open} data-testid={`${testId}-insert`}>
          {'{{ }}'} Insert field
        </button>
      </div>
      {open && (
        <div className="expr-picker" role="listbox" aria-label="Upstream fields" data-testid={`${testId}-picker`}>
          {upstream.length === 0 && <div className="muted small">No upstream nodes yet. Connect a node before this one to use its output.</div>}
          {upstream.map((u) => (
            <div key={u.id} className="expr-group">
              <div className="expr-group-name">{u.name}</div>
              {(u.fields.length ? u.fields : ['']).map((f) => (
                <button
                  type="button"
                  role="option"
                  aria-selected={false}
                  key={f || '(whole output)'}
                  className="expr-option"
                  data-testid="expr-option"
                  data-field={`${u.name}.${f}`}
                  onClick={() => insert(nodeFieldExpression(u.name, f))}
                >
                  {f || '(whole output)'}
                </button>
              ))}
            </div>
          ))}
          <div className="expr-group">
            <div className="expr-group-name">Trigger</div>
            <button type="button" role="option" aria-selected={false} className="expr-option" data-testid="expr-option" onClick={() => insert('{{ trigger }}')}>
              (trigger payload)
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
