/**
 * A grid made only of side-effect-free steps (trigger → code → code) runs entirely while it starts:
 * the run is stored finished by its first statement, before the browser has subscribed to it. The
 * run view must still show every step completed, the run's end and the computed output.
 */
import { test, expect, baseUrl, nodeByName, shot } from '../fixtures.js';

const node = (id: string, type: string, name: string, x: number, config: Record<string, unknown>) => ({
  id,
  type,
  typeVersion: 1,
  name,
  position: { x, y: 120 },
  config,
});

test('a run that finished while it started shows every step completed', async ({ page, account, consoleErrors }) => {
  expect(account.email).toBeTruthy();
  const document = {
    schemaVersion: 1,
    nodes: [
      node('trigger', 'trigger', 'Trigger', 0, { mode: 'manual', fields: [] }),
      node('double', 'code', 'Double', 260, { code: 'return { n2: input.n * 2 };' }),
      node('label', 'code', 'Label', 520, { code: 'return { label: `n2 is ${input.n2}` };' }),
    ],
    edges: [
      { id: 'e1', source: 'trigger', sourceHandle: 'out', target: 'double', targetHandle: 'in' },
      { id: 'e2', source: 'double', sourceHandle: 'out', target: 'label', targetHandle: 'in' },
    ],
  };
  // The browser's session (cookie) creates the grid through the API.
  const created = await page.request.post(`${baseUrl()}/api/grids`, { data: { name: 'Instant', document } });
  expect(created.status(), await created.text()).toBe(201);
  const gridId = ((await created.json()) as { grid: { id: string } }).grid.id;

  await page.goto(`${baseUrl()}/#/grids/${gridId}`);
  await expect(nodeByName(page, 'Label')).toBeVisible();
  await page.getByTestId('toolbar-run').click();
  await page.getByTestId('run-input-json').fill('{"n":21}');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'completed');
  for (const name of ['Trigger', 'Double', 'Label']) await expect(nodeByName(page, name)).toHaveAttribute('data-status', 'completed');
  await nodeByName(page, 'Label').locator('[data-testid="node-name"]').click();
  await expect(page.getByTestId('inspector-output')).toContainText('n2 is 42');
  await shot(page, '15-instant-run');
  expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
});
