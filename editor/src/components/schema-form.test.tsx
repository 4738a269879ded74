import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { useState } from 'react';
import type { JsonSchema } from '../api/types.js';
import { SchemaForm } from './schema-form.js';
import { validateConfig, defaultsOf } from '../lib/schema.js';

afterEach(cleanup);

/** A stateful harness: the form is controlled, errors come from the same validation the panel uses. */
function Harness({ schema, initial = {}, onValue }: { schema: JsonSchema; initial?: Record<string, unknown>; onValue?: (v: Record<string, unknown>) => void }) {
  const [value, setValue] = useState<Record<string, unknown>>(initial);
  return (
    <SchemaForm
      schema={schema}
      value={value}
      errors={validateConfig(schema, value)}
      upstream={[{ id: 'n1', name: 'Generate post', fields: ['text', 'meta.platform'] }]}
      onChange={(v) => {
        setValue(v);
        onValue?.(v);
      }}
    />
  );
}

const schema: JsonSchema = {
  type: 'object',
  properties: {
    title: { type: 'string', minLength: 3 },
    count: { type: 'integer', minimum: 1, maximum: 10 },
    platform: { type: 'string', enum: ['linkedin', 'x'] },
    draft: { type: 'boolean', default: false },
    tags: { type: 'array', items: { type: 'string' } },
    prompt: { type: 'string', 'x-gridflow-widget': 'expression' },
    headers: { type: 'array', 'x-gridflow-widget': 'keyValue', items: { type: 'object', properties: { key: { type: 'string' }, value: { type: 'string' } } } },
  },
  required: ['title', 'platform'],
};

describe('JSON-Schema form', () => {
  it('renders a control per field type', () => {
    render(<Harness schema={schema} />);
    expect(screen.getByTestId('field-title').tagName).toBe('TEXTAREA'); // free text: expression-capable
    expect(screen.getByTestId('field-title-insert')).toBeTruthy();
    expect(screen.getByTestId('field-count').getAttribute('inputmode')).toBe('numeric');
    expect(screen.getByTestId('field-platform').tagName).toBe('SELECT');
    expect(screen.getByTestId('field-draft').getAttribute('role')).toBe('switch');
    expect(screen.getByTestId('field-tags')).toBeTruthy();
    expect(screen.getByTestId('field-prompt').tagName).toBe('TEXTAREA');
    expect(screen.getByTestId('field-headers')).toBeTruthy();
    expect(screen.getByLabelText(/Title/)).toBeTruthy();
  });

  it('shows inline errors: required, range, length', () => {
    render(<Harness schema={schema} />);
    expect(screen.getByTestId('field-error-title').textContent).toBe('Title is required');
    fireEvent.change(screen.getByTestId('field-title'), { target: { value: 'ab' } });
    expect(screen.getByTestId('field-error-title').textContent).toMatch(/at least 3/);
    fireEvent.change(screen.getByTestId('field-count'), { target: { value: '42' } });
    expect(screen.getByTestId('field-error-count').textContent).toMatch(/at most 10/);
    fireEvent.change(screen.getByTestId('field-count'), { target: { value: 'abc' } });
    expect(screen.getByTestId('field-error-count').textContent).toMatch(/must be a number/);
    fireEvent.change(screen.getByTestId('field-count'), { target: { value: '4' } });
    expect(screen.queryByTestId('field-error-count')).toBeNull();
    expect(screen.getByTestId('field-title').getAttribute('aria-invalid')).toBe('true');
  });

  it('edits values of every kind', () => {
    let last: Record<string, unknown> = {};
    render(<Harness schema={schema} onValue={(v) => (last = v)} />);
    fireEvent.change(screen.getByTestId('field-title'), { target: { value: 'Launch' } });
    fireEvent.change(screen.getByTestId('field-platform'), { target: { value: JSON.stringify('x') } });
    fireEvent.click(screen.getByTestId('field-draft'));
    fireEvent.click(screen.getByTestId('field-tags-add'));
    fireEvent.change(screen.getByTestId('field-tags-0'), { target: { value: 'launch' } });
    fireEvent.click(screen.getByTestId('field-headers-add'));
    fireEvent.change(screen.getByTestId('field-headers-key-0'), { target: { value: 'X-Api' } });
    fireEvent.change(screen.getByTestId('field-headers-value-0'), { target: { value: '1' } });
    expect(last).toEqual({ title: 'Launch', platform: 'x', draft: true, tags: ['launch'], headers: [{ key: 'X-Api', value: '1' }] });
  });

  it('flags an unclosed {{ expression and inserts upstream fields at the caret', () => {
    let last: Record<string, unknown> = {};
    render(<Harness schema={schema} onValue={(v) => (last = v)} />);
    const prompt = screen.getByTestId('field-prompt') as HTMLTextAreaElement;
    fireEvent.change(prompt, { target: { value: 'Write about {{ trigger.title' } });
    expect(screen.getByTestId('field-error-prompt').textContent).toMatch(/not closed/);
    fireEvent.change(prompt, { target: { value: 'Post: ' } });
    prompt.setSelectionRange(6, 6);
    fireEvent.select(prompt);
    fireEvent.click(screen.getByTestId('field-prompt-insert'));
    const option = screen.getAllByTestId('expr-option').find((b) => b.getAttribute('data-field') === 'Generate post.text')!;
    fireEvent.click(option);
    expect(last.prompt).toBe('Post: {{ nodes["Generate post"].output.text }}');
    expect(screen.queryByTestId('field-error-prompt')).toBeNull();
  });

  it('handles discriminated unions: a select picks the variant, its fields follow', () => {
    const union: JsonSchema = {
      oneOf: [
        { type: 'object', properties: { mode: { type: 'string', const: 'manual' } }, required: ['mode'] },
        { type: 'object', properties: { mode: { type: 'string', const: 'webhook' }, path: { type: 'string', pattern: '^[a-z-]+$' }, auth: { type: 'string', enum: ['none', 'hmac'], default: 'none' } }, required: ['mode', 'path'] },
      ],
    };
    let last: Record<string, unknown> = {};
    render(<Harness schema={union} initial={defaultsOf(union)} onValue={(v) => (last = v)} />);
    expect(screen.queryByTestId('field-path')).toBeNull();
    fireEvent.change(screen.getByTestId('field-mode'), { target: { value: JSON.stringify('webhook') } });
    expect(last).toEqual({ mode: 'webhook', auth: 'none' });
    expect(screen.getByTestId('field-error-path').textContent).toBe('Path is required');
    fireEvent.change(screen.getByTestId('field-path'), { target: { value: 'Bad Path' } });
    expect(screen.getByTestId('field-error-path').textContent).toMatch(/invalid format/);
    fireEvent.change(screen.getByTestId('field-path'), { target: { value: 'new-article' } });
    expect(screen.queryByTestId('field-error-path')).toBeNull();
  });

  it('shows server messages for a field', () => {
    render(<SchemaForm schema={schema} value={{ title: 'Fine', platform: 'x' }} errors={{ title: 'Title is already used' }} onChange={() => {}} />);
    expect(screen.getByTestId('field-error-title').textContent).toBe('Title is already used');
  });
});
