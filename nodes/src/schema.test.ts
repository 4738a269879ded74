import { describe, expect, it } from 'vitest';
import { registry } from './registry.js';
import { branchConfigSchema, branchNode } from './branch/definition.js';
import {
  collectSecretPaths,
  describeNodeType,
  describeNodeTypes,
  outputsFromDescription,
  type JsonSchema,
} from './schema.js';

const described = describeNodeTypes(registry);
const byType = new Map(described.map((d) => [d.type, d]));

function prop(schema: JsonSchema, name: string): Record<string, unknown> {
  return (schema.properties as Record<string, Record<string, unknown>>)[name]!;
}

describe('registry', () => {
  it('lists the thirteen node types once each', () => {
    expect(
      registry
        .list()
        .map((t) => t.type)
        .sort(),
    ).toEqual(
      [
        'analytics',
        'approval',
        'branch',
        'brand-guard',
        'brand-knowledge',
        'code',
        'delay',
        'for-each',
        'generate',
        'http',
        'publish',
        'transform',
        'trigger',
      ].sort(),
    );
  });
});

describe('describeNodeTypes', () => {
  it('describes every registered type as plain JSON', () => {
    expect(described.map((d) => d.type)).toEqual(registry.list().map((t) => t.type));
    const roundTrip = JSON.parse(JSON.stringify(described));
    expect(roundTrip).toEqual(described);
    for (const d of described) {
      expect(d.configSchema.$schema, d.type).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(d.label.length, d.type).toBeGreaterThan(0);
      expect(d.isTrigger ? d.inputs : d.inputs.length > 0, d.type).toBeTruthy();
    }
  });

  it('gives each new node a valid default config when one exists', () => {
    for (const d of described) {
      if (d.defaultConfig === null) continue;
      expect(registry.get(d.type)!.configSchema.safeParse(d.defaultConfig).success, d.type).toBe(
        true,
      );
    }
    expect(byType.get('trigger')!.defaultConfig).toEqual({ mode: 'manual', fields: [] });
    expect(byType.get('for-each')!.defaultConfig).toBeNull(); // items must be chosen
  });

  it('carries enums, defaults and widget hints', () => {
    const http = byType.get('http')!;
    expect(prop(http.configSchema, 'method')).toMatchObject({
      default: 'GET',
      enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'],
    });
    expect(prop(http.configSchema, 'headers')['x-gridflow-widget']).toBe('keyValue');
    expect(http.secretFields).toEqual(['auth.password', 'auth.token', 'auth.value']);
    const code = byType.get('code')!;
    expect(prop(code.configSchema, 'code')).toMatchObject({
      'x-gridflow-widget': 'code',
      'x-gridflow-language': 'javascript',
    });
    expect(code.rawFields).toEqual(['code']);
    expect(prop(byType.get('for-each')!.configSchema, 'items')['x-gridflow-widget']).toBe(
      'expression',
    );
    expect(prop(byType.get('delay')!.configSchema, 'until')['x-gridflow-showWhen']).toEqual({
      mode: 'until',
    });
  });

  it('marks raw string fields without a hint as expressions', () => {
    const desc = describeNodeType({ ...branchNode, rawFields: ['matchMode'] } as never);
    expect(prop(desc.configSchema, 'matchMode')['x-gridflow-widget']).toBe('expression');
  });

  it('declares the branch ports as dynamic, and the JSON form computes the same ports as outputsFor', () => {
    const branch = byType.get('branch')!;
    expect(branch.dynamicOutputs).toEqual({
      field: 'routes',
      itemName: 'port',
      itemLabel: 'label',
      append: ['default'],
    });
    expect(branch.outputs).toEqual([{ name: 'default', label: 'default' }]);
    const config = branchConfigSchema.parse({
      routes: [
        { port: 'high', label: 'High score', expression: 'true' },
        { port: 'low', expression: 'true' },
      ],
    });
    expect(outputsFromDescription(branch, config)).toEqual(branchNode.outputsFor!(config));
    expect(
      outputsFromDescription(branch, { routes: [{ port: 'default' }, { port: 'error' }, {}] }),
    ).toEqual([{ name: 'default', label: 'default' }]);
    expect(outputsFromDescription(byType.get('for-each')!, {})).toEqual([
      { name: 'item', label: 'item' },
      { name: 'done', label: 'done' },
    ]);
  });
});

describe('collectSecretPaths', () => {
  it('finds secrets inside objects, arrays and unions', () => {
    const schema = {
      type: 'object',
      properties: {
        token: { type: 'string', 'x-gridflow-widget': 'secret' },
        list: {
          type: 'array',
          items: {
            type: 'object',
            properties: { key: { type: 'string', 'x-gridflow-widget': 'secret' } },
          },
        },
        auth: {
          oneOf: [{ type: 'object', properties: { pw: { 'x-gridflow-widget': 'secret' } } }],
        },
      },
    };
    expect(collectSecretPaths(schema)).toEqual(['auth.pw', 'list[].key', 'token']);
  });
});
