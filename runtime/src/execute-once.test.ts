import { afterAll, describe, expect, it } from 'vitest';
import { executeNodeOnce } from './execute-once.js';
import { createSandbox, testRegistry, testServices } from './testing/engine-fixture.js';
import { grid } from './testing/grid-builder.js';

const sandbox = createSandbox({ poolSize: 1 });
afterAll(() => sandbox.dispose());
const common = {
  registry: testRegistry(),
  services: testServices(sandbox),
  db: { prisma: {} as never },
  workspaceId: 'ws',
};
const node = (n: Parameters<typeof grid>[0][number]) => grid([n], []).nodes[0]!;

describe('executeNodeOnce', () => {
  it('resolves expressions against the given data and returns the output and emitted events', async () => {
    const r = await executeNodeOnce({
      ...common,
      node: node({
        id: 'x',
        type: 'expr',
        name: 'X',
        config: { value: '{{ nodes.Prev.output.a + input.b }}' },
      }),
      input: { b: 2 },
      trigger: { n: 5 },
      nodes: [{ id: 'p', name: 'Prev', output: { a: 40 } }],
    });
    expect(r).toMatchObject({
      status: 'completed',
      output: { value: 42, evaluated: 10 },
      ports: null,
    });
    const e = await executeNodeOnce({
      ...common,
      node: node({ id: 'e', type: 'emit', name: 'E' }),
      input: null,
      trigger: null,
    });
    expect(e).toMatchObject({
      status: 'completed',
      events: [{ type: 'content.generated', data: { by: 'E' } }],
    });
  });
  it('reports failures, waits and timeouts without storing anything', async () => {
    const f = await executeNodeOnce({
      ...common,
      node: node({ id: 'f', type: 'fail-n-times', config: { times: 1, kind: 'user' } }),
      input: null,
      trigger: null,
    });
    expect(f).toMatchObject({
      status: 'failed',
      error: { kind: 'user', message: 'planned failure 1' },
    });
    const w = await executeNodeOnce({
      ...common,
      node: node({ id: 'w', type: 'approval' }),
      input: 1,
      trigger: null,
    });
    expect(w).toMatchObject({
      status: 'waiting',
      wait: { payload: { question: 'ok?', input: 1 } },
    });
    const t = await executeNodeOnce({
      ...common,
      node: node({ id: 's', type: 'slow', name: 'S', config: { ms: 5000 } }),
      input: null,
      trigger: null,
      timeoutMs: 100,
    });
    expect(t).toMatchObject({
      status: 'failed',
      error: { code: 'TIMEOUT', message: 'Node "S" did not finish within 100 ms.' },
    });
    const bad = await executeNodeOnce({
      ...common,
      node: node({ id: 'b', type: 'slow', name: 'B', config: { ms: 'soon' } }),
      input: null,
      trigger: null,
    });
    expect(bad).toMatchObject({ status: 'failed', error: { kind: 'user', field: 'config.ms' } });
  });
});
