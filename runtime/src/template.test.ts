import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hasTemplate, isPlainPath, nodeReferences, parsePath, parseTemplate, referencedNodes, segmentAt, singleExpression } from './template.js';

describe('parseTemplate', () => {
  it('splits text and expressions with offsets', () => {
    const t = 'Hello {{ trigger.body.name }}, you have {{nodes.count.output}} posts';
    const segs = parseTemplate(t);
    expect(segs.map((s) => (s.type === 'text' ? ['text', s.value] : ['expr', s.expression]))).toEqual([
      ['text', 'Hello '],
      ['expr', 'trigger.body.name'],
      ['text', ', you have '],
      ['expr', 'nodes.count.output'],
      ['text', ' posts'],
    ]);
    for (const s of segs) {
      if (s.type === 'text') expect(t.slice(s.start, s.end)).toBe(s.value);
      else {
        expect(t.slice(s.start, s.start + 2)).toBe('{{');
        expect(t.slice(s.end - 2, s.end)).toBe('}}');
        expect(t.slice(s.innerStart, s.innerEnd).trim()).toBe(s.expression);
      }
    }
  });

  it('handles braces and "}}" inside the expression', () => {
    expect(parseTemplate('{{ {a: {b: 1}} }}')).toMatchObject([{ type: 'expression', expression: '{a: {b: 1}}' }]);
    expect(parseTemplate('{{ "}}" + \'}}\' }}!')).toMatchObject([
      { type: 'expression', expression: '"}}" + \'}}\'' },
      { type: 'text', value: '!' },
    ]);
    expect(parseTemplate('{{ `a${1}}` }}')).toMatchObject([{ type: 'expression', expression: '`a${1}}`' }]);
  });

  it('treats an unclosed {{ as text and flags it', () => {
    expect(parseTemplate('a {{ b')).toEqual([
      { type: 'text', value: 'a ', start: 0, end: 2 },
      { type: 'text', value: '{{ b', start: 2, end: 6, unclosed: true },
    ]);
    expect(hasTemplate('a {{ b')).toBe(false);
    expect(hasTemplate('a {{ b }}')).toBe(true);
    expect(hasTemplate(42)).toBe(false);
    expect(parseTemplate('')).toEqual([]);
    expect(parseTemplate('no braces')).toEqual([{ type: 'text', value: 'no braces', start: 0, end: 9 }]);
  });

  it('finds a single expression (surrounding whitespace ignored)', () => {
    expect(singleExpression('{{ item.name }}')).toBe('item.name');
    expect(singleExpression('  {{ item.name }}\n')).toBe('item.name');
    expect(singleExpression('x {{ item.name }}')).toBeNull();
    expect(singleExpression('{{ a }}{{ b }}')).toBeNull();
    expect(singleExpression('plain')).toBeNull();
  });

  it('segmentAt finds the expression under the cursor', () => {
    const t = 'Hi {{ trigger.bo }} there';
    const s = segmentAt(t, t.indexOf('bo') + 2);
    expect(s).toMatchObject({ type: 'expression', expression: 'trigger.bo' });
    expect(segmentAt(t, 1)).toMatchObject({ type: 'text', value: 'Hi ' });
  });

  it('round-trips: concatenating segments rebuilds the template', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('{', '}', 'a', ' ', '"', "'", '`', '\\', 'x', '.') , maxLength: 40 }), (t) => {
        const segs = parseTemplate(t);
        expect(segs.map((s) => t.slice(s.start, s.end)).join('')).toBe(t);
        for (let i = 1; i < segs.length; i++) expect(segs[i]!.start).toBe(segs[i - 1]!.end);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('plain paths', () => {
  it('accepts the documented forms', () => {
    expect(parsePath('trigger.body.title')).toEqual(['trigger', 'body', 'title']);
    expect(parsePath('nodes["Generate post"].output.text')).toEqual(['nodes', 'Generate post', 'output', 'text']);
    expect(parsePath("nodes['it\\'s'].output")).toEqual(['nodes', "it's", 'output']);
    expect(parsePath('nodes.gen1.output.items[0]')).toEqual(['nodes', 'gen1', 'output', 'items', 0]);
    expect(parsePath(' item.name ')).toEqual(['item', 'name']);
    expect(parsePath('run.id')).toEqual(['run', 'id']);
    expect(parsePath('nodes[ "a]b" ].output')).toEqual(['nodes', 'a]b', 'output']);
    expect(isPlainPath('input')).toBe(true);
  });

  it('refuses everything else', () => {
    for (const e of [
      'trigger.body.title.toUpperCase()',
      'a.b',
      'trigger.body?.title',
      'trigger[x]',
      'trigger.body.title + 1',
      'nodes.gen1.output.items[-1]',
      'nodes.gen1.output.items[01]',
      'trigger.',
      'trigger..a',
      'trigger["a"',
      'true',
      '1',
      '',
    ]) {
      expect(isPlainPath(e), e).toBe(false);
    }
  });
});

describe('referencedNodes', () => {
  it('lists statically read nodes', () => {
    expect(referencedNodes('nodes.gen1.output.text + nodes["Generate post"].output')).toEqual(['gen1', 'Generate post']);
    expect(referencedNodes("nodes?.a?.output ?? nodes['b'].output ?? nodes.a")).toEqual(['a', 'b']);
    expect(referencedNodes('"nodes.fake" + trigger.nodes.x')).toEqual([]);
    expect(nodeReferences('nodes[key].output')).toEqual({ names: [], dynamic: true });
    expect(nodeReferences('Object.keys(nodes)')).toEqual({ names: [], dynamic: true });
    expect(nodeReferences('nodes.a.output')).toEqual({ names: ['a'], dynamic: false });
  });
});
