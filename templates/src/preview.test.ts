import { describe, expect, it } from 'vitest';
import { escapeXml, svgDataUrl, templatePreviewSvg } from './preview.js';

const node = (id: string, name: string, x: number, y: number, type = 'transform') => ({
  id,
  type,
  typeVersion: 1,
  name,
  position: { x, y },
  config: {},
});

describe('templatePreviewSvg', () => {
  it('draws an empty grid as a blank card', () => {
    const svg = templatePreviewSvg({ nodes: [], edges: [] });
    expect(svg).toMatch(/^<svg [^>]*viewBox="0 0 480 270"/);
    expect(svg).not.toContain('<g ');
  });

  it('fits every node inside the picture and colours by category', () => {
    const doc = {
      nodes: [
        node('a', 'Start', -500, -300, 'trigger'),
        node('b', 'Far away', 4000, 2000, 'generate'),
      ],
      edges: [
        {
          id: 'e',
          source: 'a',
          sourceHandle: 'out',
          target: 'b',
          targetHandle: 'in',
          kind: 'default' as const,
        },
      ],
    };
    const svg = templatePreviewSvg(doc, {
      categoryOf: (t) => (t === 'trigger' ? 'trigger' : 'content'),
    });
    for (const m of svg.matchAll(
      /<rect x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"/g,
    )) {
      const [x, y, w, h] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
      expect(x).toBeGreaterThanOrEqual(0);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(x + w).toBeLessThanOrEqual(480);
      expect(y + h).toBeLessThanOrEqual(270);
    }
    expect(svg).toContain('fill="#FEF3C7"'); // trigger
    expect(svg).toContain('fill="#DBEAFE"'); // content
  });

  it('dashes error edges, skips dangling ones, escapes names and dims disabled nodes', () => {
    const doc = {
      nodes: [node('a', 'Q&A <live>', 0, 0), { ...node('b', 'B', 300, 0), disabled: true }],
      edges: [
        {
          id: 'e1',
          source: 'a',
          sourceHandle: 'error',
          target: 'b',
          targetHandle: 'in',
          kind: 'error' as const,
        },
        {
          id: 'e2',
          source: 'a',
          sourceHandle: 'out',
          target: 'missing',
          targetHandle: 'in',
          kind: 'default' as const,
        },
      ],
    };
    const svg = templatePreviewSvg(doc);
    expect(svg.match(/<path /g)).toHaveLength(1);
    expect(svg).toContain('stroke-dasharray="4 3"');
    expect(svg).toContain('Q&amp;A &lt;live&gt;');
    expect(svg).toContain('opacity="0.5"');
  });

  it('truncates long names to the box', () => {
    const svg = templatePreviewSvg({
      nodes: [node('a', 'A'.repeat(200), 0, 0), node('b', 'B', 5000, 0)],
      edges: [],
    });
    const label = /<text[^>]*>([^<]*)<\/text>/.exec(svg)![1]!;
    expect(label.endsWith('…')).toBe(true);
    expect(label.length).toBeLessThan(40);
  });
});

describe('helpers', () => {
  it('escapeXml and svgDataUrl (UTF-8 safe)', () => {
    expect(escapeXml(`<a b="c">'&'</a>`)).toBe(
      '&lt;a b=&quot;c&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;',
    );
    const url = svgDataUrl('<svg>é⚡</svg>');
    expect(
      Buffer.from(url.replace('data:image/svg+xml;base64,', ''), 'base64').toString('utf8'),
    ).toBe('<svg>é⚡</svg>');
  });
});
