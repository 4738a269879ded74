/**
 * A small SVG picture of a grid for the template gallery: nodes as rounded boxes at their canvas
 * positions (scaled to fit), edges as curves (error edges dashed red), coloured by node category.
 * Pure string building (no DOM), so it runs in the server, the browser and tests alike.
 */
import type { GridDocument } from '@gridflow/runtime/document';

export interface PreviewOptions {
  width?: number;
  height?: number;
  /** Category of a node type, for colours (e.g. from the registry); unknown types are grey. */
  categoryOf?: (type: string) => string | undefined;
}

const COLORS: Record<string, { fill: string; stroke: string }> = {
  trigger: { fill: '#FEF3C7', stroke: '#D97706' },
  content: { fill: '#DBEAFE', stroke: '#2563EB' },
  logic: { fill: '#EDE9FE', stroke: '#7C3AED' },
  data: { fill: '#DCFCE7', stroke: '#16A34A' },
  utility: { fill: '#F1F5F9', stroke: '#475569' },
};
const UNKNOWN = { fill: '#F3F4F6', stroke: '#9CA3AF' };

/** Canvas size of a node in the editor, used to scale the boxes consistently. */
const NODE_W = 180;
const NODE_H = 60;

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string,
  );
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

export function templatePreviewSvg(
  document: Pick<GridDocument, 'nodes' | 'edges'>,
  options: PreviewOptions = {},
): string {
  const width = options.width ?? 480;
  const height = options.height ?? 270;
  const pad = 12;
  const nodes = document.nodes;
  const open = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Grid preview: ${nodes.length} nodes">`;
  const background = `<rect width="${width}" height="${height}" rx="8" fill="#FFFFFF"/>`;
  if (nodes.length === 0) return `${open}${background}</svg>`;

  const minX = Math.min(...nodes.map((n) => n.position.x));
  const minY = Math.min(...nodes.map((n) => n.position.y));
  const maxX = Math.max(...nodes.map((n) => n.position.x + NODE_W));
  const maxY = Math.max(...nodes.map((n) => n.position.y + NODE_H));
  // Wide grids leave vertical room: stretch y up to twice the x scale so branches stay readable.
  const sx = Math.min((width - 2 * pad) / Math.max(1, maxX - minX), 1);
  const sy = Math.min((height - 2 * pad) / Math.max(1, maxY - minY), 2 * sx, 1);
  const scale = sx;
  const boxH = NODE_H * Math.min(sy, 1.5 * sx);
  // Centre the scaled graph.
  const offX = pad + (width - 2 * pad - (maxX - minX) * sx) / 2;
  const offY = pad + (height - 2 * pad - ((maxY - minY - NODE_H) * sy + boxH)) / 2;
  const box = new Map(
    nodes.map((n) => [
      n.id,
      {
        x: offX + (n.position.x - minX) * sx,
        y: offY + (n.position.y - minY) * sy,
        w: NODE_W * sx,
        h: boxH,
      },
    ]),
  );

  const parts: string[] = [open, background];
  for (const e of document.edges) {
    const s = box.get(e.source);
    const t = box.get(e.target);
    if (!s || !t) continue;
    const x1 = s.x + s.w;
    const y1 = s.y + s.h / 2;
    const x2 = t.x;
    const y2 = t.y + t.h / 2;
    const dx = Math.max(20 * scale, Math.abs(x2 - x1) / 2);
    const isError = e.kind === 'error';
    parts.push(
      `<path d="M${round(x1)},${round(y1)} C${round(x1 + dx)},${round(y1)} ${round(x2 - dx)},${round(y2)} ${round(x2)},${round(y2)}" fill="none" stroke="${
        isError ? '#DC2626' : '#94A3B8'
      }" stroke-width="1.5"${isError ? ' stroke-dasharray="4 3"' : ''}/>`,
    );
  }
  // Fit about 14 characters per box, within the box height.
  const fontSize = Math.max(6, Math.min(12, boxH * 0.4, (NODE_W * sx) / (14 * 0.58)));
  for (const n of nodes) {
    const b = box.get(n.id)!;
    const color = COLORS[options.categoryOf?.(n.type) ?? ''] ?? UNKNOWN;
    const maxChars = Math.max(4, Math.floor((b.w - 4) / (fontSize * 0.58)));
    const label = n.name.length > maxChars ? `${n.name.slice(0, maxChars - 1)}…` : n.name;
    parts.push(
      `<g data-node-id="${escapeXml(n.id)}"><rect x="${round(b.x)}" y="${round(b.y)}" width="${round(b.w)}" height="${round(b.h)}" rx="${round(
        6 * scale + 2,
      )}" fill="${color.fill}" stroke="${color.stroke}" stroke-width="1.2"${n.disabled ? ' opacity="0.5"' : ''}/>` +
        `<text x="${round(b.x + b.w / 2)}" y="${round(b.y + b.h / 2)}" font-family="Inter, Arial, sans-serif" font-size="${round(
          fontSize,
        )}" fill="#0F172A" text-anchor="middle" dominant-baseline="central">${escapeXml(label)}</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** The SVG as a `data:` URL, usable as an `<img src>` and as the template's previewImageUrl. */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;base64,${btoa(unescapeUtf8(svg))}`;
}

function unescapeUtf8(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return binary;
}
