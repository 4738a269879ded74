import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRegistry, defineNodeType, output } from './node-type.js';
import { validateGrid } from './validate.js';
import {
  canConnect,
  findCycle,
  topologicalOrder,
  wouldCreateCycle,
  reachableFrom,
} from './graph-rules.js';
import { grid, testRegistryView } from './testing/grid-builder.js';

const base = { label: 'x', description: 'x', icon: '•', category: 'utility' as const };
const registry = createRegistry([
  defineNodeType({
    ...base,
    type: 'trigger',
    version: 1,
    isTrigger: true,
    inputs: [],
    outputs: [{ name: 'out', label: 'out' }],
    configSchema: z.object({}),
    run: async (ctx) => output(ctx.trigger),
  }),
  defineNodeType({
    ...base,
    type: 'noop',
    version: 1,
    inputs: [{ name: 'in', label: 'in' }],
    outputs: [{ name: 'out', label: 'out' }],
    configSchema: z.object({}).passthrough(),
    run: async (ctx) => output(ctx.input),
  }),
  defineNodeType({
    ...base,
    type: 'http',
    version: 3,
    inputs: [{ name: 'in', label: 'in' }],
    outputs: [{ name: 'out', label: 'out' }],
    configSchema: z.object({ url: z.string().url(), retries: z.number().int().min(0) }),
    migrations: {
      1: (c) => ({ ...c, url: c.address, address: undefined }),
      2: (c) => ({ retries: 0, ...c }),
    },
    run: async () => output(null),
  }),
  defineNodeType({
    ...base,
    type: 'branch',
    version: 1,
    inputs: [{ name: 'in', label: 'in' }],
    outputs: [
      { name: 'true', label: 'true' },
      { name: 'false', label: 'false' },
    ],
    configSchema: z.object({}),
    run: async () => output(null),
  }),
  defineNodeType({
    ...base,
    type: 'router',
    version: 1,
    inputs: [{ name: 'in', label: 'in' }],
    outputs: [{ name: 'default', label: 'default' }],
    configSchema: z.object({ routes: z.array(z.string()) }),
    outputsFor: (c) => [
      ...c.routes.map((r) => ({ name: r, label: r })),
      { name: 'default', label: 'default' },
    ],
    run: async () => output(null),
  }),
  defineNodeType({
    ...base,
    type: 'for-each',
    version: 1,
    inputs: [{ name: 'in', label: 'in' }],
    outputs: [
      { name: 'item', label: 'item' },
      { name: 'done', label: 'done' },
    ],
    configSchema: z.object({}).passthrough(),
    run: async () => output({ items: [] }),
  }),
]);

const codes = (r: { errors: Array<{ code: string }> }) => r.errors.map((e) => e.code);

describe('config-defined output ports', () => {
  const doc = (routes: string[], handle: string) => ({
    schemaVersion: 1,
    nodes: [
      { id: 't', type: 'trigger', typeVersion: 1, name: 'T', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'r',
        type: 'router',
        typeVersion: 1,
        name: 'Route',
        position: { x: 0, y: 0 },
        config: { routes },
      },
      { id: 'n', type: 'noop', typeVersion: 1, name: 'N', position: { x: 0, y: 0 }, config: {} },
    ],
    edges: [
      { id: 'e1', source: 't', sourceHandle: 'out', target: 'r', targetHandle: 'in' },
      { id: 'e2', source: 'r', sourceHandle: handle, target: 'n', targetHandle: 'in' },
    ],
  });
  it('accepts an edge from a port the node config defines (outputsFor)', () => {
    const r = validateGrid(doc(['high', 'low'], 'high'), registry);
    expect(r.errors).toEqual([]);
  });
  it('rejects a port that this node config does not define, naming the edge', () => {
    const r = validateGrid(doc(['low'], 'high'), registry);
    expect(r.errors).toEqual([
      expect.objectContaining({
        code: 'port_mismatch',
        edgeId: 'e2',
        message: expect.stringContaining('no output "high"'),
      }),
    ]);
  });
});

describe('graph rules', () => {
  it('checks ports, including the implicit error output', () => {
    expect(canConnect('noop', 'out', 'noop', 'in', testRegistryView)).toEqual({
      ok: true,
      kind: 'default',
    });
    expect(canConnect('noop', 'error', 'noop', 'in', testRegistryView)).toEqual({
      ok: true,
      kind: 'error',
    });
    expect(canConnect('branch', 'maybe', 'noop', 'in', testRegistryView)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('no output "maybe"'),
    });
    expect(canConnect('noop', 'out', 'trigger', 'in', testRegistryView)).toMatchObject({
      ok: false,
    });
    expect(canConnect('trigger', 'error', 'noop', 'in', testRegistryView)).toMatchObject({
      ok: false,
    });
  });
  it('finds cycles, orders topologically and answers reachability', () => {
    const edges = [
      { source: 'a', target: 'b' },
      { source: 'b', target: 'c' },
    ];
    expect(findCycle(['a', 'b', 'c'], edges)).toBeNull();
    expect(topologicalOrder(['c', 'b', 'a'], edges)).toEqual(['a', 'b', 'c']);
    expect(wouldCreateCycle(edges, 'c', 'a')).toBe(true);
    expect(wouldCreateCycle(edges, 'a', 'c')).toBe(false);
    expect(findCycle(['a', 'b', 'c'], [...edges, { source: 'c', target: 'a' }])).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(topologicalOrder(['a', 'b', 'c'], [...edges, { source: 'c', target: 'a' }])).toBeNull();
    expect([...reachableFrom(['b'], edges)].sort()).toEqual(['b', 'c']);
  });
});

describe('validateGrid', () => {
  it('accepts a good grid and applies defaults', () => {
    const r = validateGrid(grid(['t', 'a'], ['t>a']), registry);
    expect(r).toMatchObject({ ok: true, errors: [], warnings: [] });
    expect(r.document!.settings.errorHandling).toBe('stop');
  });
  it('reports schema errors with the node and path', () => {
    const doc = JSON.parse(JSON.stringify(grid(['t', 'a'], ['t>a'])));
    doc.nodes[1].position = { x: 'left' };
    const r = validateGrid(doc, registry);
    expect(r.ok).toBe(false);
    expect(r.errors[0]).toMatchObject({
      code: 'schema',
      nodeId: 'a',
      field: 'nodes[1].position.x',
    });
    expect(r.errors[0]!.message).toContain('node "a"');
  });
  it('reports unknown types, dangling edges, port mismatches, cycles and trigger counts', () => {
    const doc = grid(
      [
        't',
        { id: 'u', type: 'mystery', name: 'Mystery box' },
        'a',
        'b',
        { id: 't2', type: 'trigger' },
        { id: 'br', type: 'branch' },
      ],
      ['t>a', 'a>b', 'b>a', 'br.maybe>b', 't>ghost'],
    );
    const r = validateGrid(doc, registry);
    expect(codes(r)).toEqual(
      expect.arrayContaining([
        'unknown_node_type',
        'dangling_edge',
        'port_mismatch',
        'cycle',
        'several_triggers',
      ]),
    );
    expect(r.errors.find((e) => e.code === 'unknown_node_type')!.message).toContain(
      '"Mystery box"',
    );
    expect(r.errors.find((e) => e.code === 'cycle')!.message).toMatch(/"a" → "b" → "a"/);
    expect(validateGrid(grid([{ id: 'a', type: 'noop' }], []), registry).errors[0]!.code).toBe(
      'no_trigger',
    );
  });
  it('migrates old node versions, then checks config with each issue path', () => {
    const doc = grid(
      ['t', { id: 'h', type: 'http', name: 'Fetch', config: { address: 'https://example.com' } }],
      ['t>h'],
    );
    doc.nodes[1]!.typeVersion = 1;
    const r = validateGrid(doc, registry);
    expect(r.ok).toBe(true);
    expect(r.document!.nodes[1]).toMatchObject({
      typeVersion: 3,
      config: { url: 'https://example.com', retries: 0 },
    });
    const bad = grid(
      [
        't',
        {
          id: 'h',
          type: 'http',
          name: 'Fetch',
          config: { url: 'not a url', retries: '{{ trigger.n }}' },
        },
      ],
      ['t>h'],
    );
    bad.nodes[1]!.typeVersion = 3;
    const rb = validateGrid(bad, registry);
    expect(rb.errors).toEqual([
      expect.objectContaining({ code: 'bad_config', nodeId: 'h', field: 'config.url' }),
    ]);
    expect(rb.errors[0]!.message).toMatch(/^Node "Fetch": setting "url" is invalid/);
  });
  it('warns about unreachable nodes', () => {
    const r = validateGrid(grid(['t', 'a', 'lonely'], ['t>a']), registry);
    expect(r.ok).toBe(true);
    expect(r.warnings).toEqual([
      expect.objectContaining({ code: 'unreachable', nodeId: 'lonely' }),
    ]);
  });
  it('enforces for-each body rules and rejects nested loops', () => {
    const exits = grid(
      ['t', { id: 'fe', type: 'for-each' }, 'x', 'after'],
      ['t>fe', 'fe.item>x', 'x>after', 'fe.done>after'],
    );
    expect(validateGrid(exits, registry).errors).toEqual([
      expect.objectContaining({
        code: 'for_each_body_entry',
        nodeId: 'after',
        message: expect.stringContaining('"done" output'),
      }),
    ]);
    const enters = grid(
      ['t', { id: 'fe', type: 'for-each' }, 'x', 'y'],
      ['t>fe', 'fe.item>x', 't>y', 'y>x'],
    );
    expect(codes(validateGrid(enters, registry))).toContain('for_each_body_entry');
    const nested = grid(
      ['t', { id: 'fe', type: 'for-each' }, { id: 'fe2', type: 'for-each' }, 'x'],
      ['t>fe', 'fe.item>fe2', 'fe2.item>x'],
    );
    expect(codes(validateGrid(nested, registry))).toContain('nested_for_each');
    const good = grid(
      ['t', { id: 'fe', type: 'for-each' }, 'x', 'y', 'after'],
      ['t>fe', 'fe.item>x', 'x>y', 'fe.done>after'],
    );
    expect(validateGrid(good, registry).ok).toBe(true);
  });
});
