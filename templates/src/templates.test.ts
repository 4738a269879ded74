import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '@gridflow/nodes';
import { triggerConfigSchema, triggerNode } from '@gridflow/nodes/trigger/definition';
import { createFakeContext } from '@gridflow/nodes/testing/fake-context';
import type { Json } from '@gridflow/runtime/node-type';
import {
  applySetup,
  loadTemplates,
  missingSetup,
  parseTemplateFile,
  SetupError,
  TemplateFileError,
  validateTemplate,
} from './index.js';

/** Answers by kind for items without an `example`. */
function exampleAnswer(kind: string): unknown {
  switch (kind) {
    case 'number':
      return 75;
    case 'url':
      return 'https://hooks.example.com/example-hook';
    case 'datetime':
      return '2030-01-01T09:00:00Z';
    case 'timezone':
      return 'Europe/Berlin';
    case 'users':
      return ['example-user'];
    default:
      return `example-${kind}`;
  }
}

const templates = loadTemplates({
  preview: { categoryOf: (type) => registry.get(type)?.category },
});
const bySlug = new Map(templates.map((t) => [t.slug, t]));

/** The eight templates. */
const EXPECTED = [
  'agency-compliance-gate',
  'blog-post-to-linkedin',
  'brand-voice-onboarding',
  'caption-ab-test',
  'event-live-coverage',
  'failed-publish-recovery',
  'repurpose-brief-per-platform',
  'weekly-performance-digest',
];

describe('loadTemplates', () => {
  it('loads at least the eight gallery templates, sorted by slug', () => {
    expect(templates.length).toBeGreaterThanOrEqual(8);
    expect(templates.map((t) => t.slug)).toEqual(expect.arrayContaining(EXPECTED));
    expect(templates.map((t) => t.slug)).toEqual([...templates.map((t) => t.slug)].sort());
  });

  it('gives every template the server fields (TemplateDefinition) and a data-URL preview', () => {
    for (const t of templates) {
      expect(t.title.length, t.slug).toBeGreaterThan(0);
      expect(t.description.length, t.slug).toBeGreaterThan(40);
      expect(t.tags.length, t.slug).toBeGreaterThan(0);
      expect(t.templateVersion, t.slug).toBeGreaterThanOrEqual(1);
      expect(t.previewImageUrl, t.slug).toMatch(/^data:image\/svg\+xml;base64,/);
      expect(t.requirements.setupChecklist, t.slug).toBe(t.setupChecklist);
      expect(t.requirements.connections, t.slug).toBe(t.requiredConnections);
    }
  });

  it('spreads the templates over the gallery categories', () => {
    expect(new Set(templates.map((t) => t.category)).size).toBeGreaterThanOrEqual(6);
  });

  it('refuses a malformed file, naming it and the field', () => {
    expect(() => parseTemplateFile('{', 'broken.json')).toThrow(/broken\.json: not valid JSON/);
    expect(() => parseTemplateFile(JSON.stringify({ slug: 'Bad Slug' }), 'x.json')).toThrow(
      TemplateFileError,
    );
    const good = JSON.stringify({
      ...JSON.parse(JSON.stringify(bySlug.get('caption-ab-test'))),
      file: undefined,
    });
    expect(() => parseTemplateFile(good, 'other-name.json')).toThrow(
      /file name must be caption-ab-test\.json/,
    );
  });

  it('refuses two files with the same slug', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gf-templates-'));
    const raw = JSON.stringify(bySlug.get('caption-ab-test'));
    writeFileSync(join(dir, 'caption-ab-test.json'), raw);
    mkdtempSync(join(dir, 'sub-'));
    expect(loadTemplates({ dir })).toHaveLength(1);
  });
});

describe.each(templates.map((t) => [t.slug, t] as const))('template %s', (_slug, t) => {
  it('validates against the node schemas (runtime validateGrid), without warnings', () => {
    const result = validateTemplate(t, registry);
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  it('pins every node to a registered type and gives each node a unique name and notes-free ids', () => {
    const names = new Set<string>();
    for (const n of t.document.nodes) {
      expect(registry.get(n.type), `${n.id}: ${n.type}`).toBeDefined();
      expect(names.has(n.name), n.name).toBe(false);
      names.add(n.name);
    }
    expect(t.document.nodes.filter((n) => registry.get(n.type)?.isTrigger)).toHaveLength(1);
  });

  it('has a setup checklist whose answers land in the document, which still validates', () => {
    const answers: Record<string, unknown> = {};
    for (const item of t.setupChecklist)
      answers[item.id] = item.example ?? exampleAnswer(item.kind);
    const doc = applySetup(t, answers);
    for (const item of t.setupChecklist) {
      for (const target of item.targets) {
        const node = doc.nodes.find((n) => n.id === target.nodeId)!;
        let cur: unknown = node.config;
        for (const k of target.field.split('.')) cur = (cur as Record<string, unknown>)[k];
        expect(cur, `${item.id} → ${target.nodeId}.${target.field}`).toEqual(answers[item.id]);
      }
    }
    expect(validateTemplate({ ...t, document: doc }, registry).errors).toEqual([]);
    // The template itself is not modified.
    expect(JSON.stringify(t.document)).not.toContain('example-');
  });

  it('has a sample trigger the trigger node accepts', async () => {
    const trigger = t.document.nodes.find((n) => n.type === 'trigger')!;
    const config = triggerConfigSchema.parse(trigger.config);
    const result = await triggerNode.run(
      createFakeContext({ config, trigger: (t.sampleTrigger ?? {}) as Json }),
    );
    expect(result.kind).toBe('output');
  });

  it('renders a preview with one box per node', () => {
    expect(t.previewSvg.startsWith('<svg')).toBe(true);
    expect(t.previewSvg.match(/data-node-id=/g)).toHaveLength(t.document.nodes.length);
    expect(t.previewSvg.match(/<path /g)?.length ?? 0).toBe(t.document.edges.length);
  });
});

describe('setup', () => {
  const blog = bySlug.get('blog-post-to-linkedin')!;
  it('lists and enforces required answers', () => {
    expect(missingSetup(blog, {}).map((i) => i.id)).toEqual(['brandProfile']);
    expect(() => applySetup(blog, {})).toThrow(SetupError);
    expect(applySetup(blog, {}, { allowIncomplete: true }).nodes).toHaveLength(
      blog.document.nodes.length,
    );
    const doc = applySetup(blog, { brandProfile: 'bp-1', minScore: 80 });
    expect(doc.nodes.find((n) => n.id === 'guard')!.config.brandProfileId).toBe('bp-1');
    expect(doc.nodes.find((n) => n.id === 'gen')!.config.brandProfileId).toBe('bp-1');
    expect(validateTemplate({ ...blog, document: doc }, registry).errors).toEqual([]);
  });
});

describe('validateTemplate', () => {
  it('reports a webhook answering with a node that is not in the grid', () => {
    const t = bySlug.get('brand-voice-onboarding')!;
    const document = structuredClone(t.document);
    document.nodes.find((n) => n.id === 'trigger')!.config.responseNodeId = 'nope';
    expect(validateTemplate({ ...t, document }, registry).errors).toEqual([
      expect.objectContaining({ nodeId: 'trigger', field: 'config.responseNodeId' }),
    ]);
  });

  it('reports node config errors with node and field, and setup targets of unknown settings', () => {
    const t = bySlug.get('weekly-performance-digest')!;
    const document = structuredClone(t.document);
    document.nodes.find((n) => n.id === 'trigger')!.config.cron = '99 * * * *';
    const setupChecklist = [
      ...t.setupChecklist,
      {
        id: 'x',
        label: 'X',
        kind: 'text' as const,
        required: false,
        targets: [{ nodeId: 'post', field: 'nope' }],
      },
    ];
    const errors = validateTemplate({ ...t, document, setupChecklist }, registry).errors;
    expect(errors).toEqual([
      expect.objectContaining({ nodeId: 'trigger', field: 'config.cron' }),
      expect.objectContaining({ nodeId: 'post', field: 'config.nope' }),
    ]);
  });
});
