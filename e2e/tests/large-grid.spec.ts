import { test, expect, shot } from '../fixtures.js';
import type { Page } from '@playwright/test';
import { benchGrid } from '../../editor/src/bench-grid.js';

/** Screen point of a flow position, from React Flow's viewport transform. */
async function toScreen(page: Page, flow: { x: number; y: number }) {
  const canvas = page.getByTestId('canvas');
  const box = (await canvas.locator('.react-flow').boundingBox())!;
  const t = await canvas.locator('.react-flow__viewport').evaluate((el) => new DOMMatrixReadOnly(getComputedStyle(el).transform));
  return { x: box.x + t.e + flow.x * t.a, y: box.y + t.f + flow.y * t.a };
}

test('a 1,000-node grid: detailed nodes, fit-all overview on one canvas, select from it, zoom back in', async ({ page, account, consoleErrors }) => {
  expect(account.name).toBeTruthy();
  // the same generated grid as the canvas bench: 1,000 nodes in layers of 25 (x = layer * 300, y = row * 130),
  // on the real node types' ports (generate and brand-guard take and give "main")
  const bench = benchGrid(1000, 1200);
  const typeOf = new Map(bench.nodes.map((n) => [n.id, n.type]));
  const doc = {
    ...bench,
    edges: bench.edges.map((e) => ({ ...e, targetHandle: 'main', sourceHandle: typeOf.get(e.source) === 'generate' ? 'main' : e.sourceHandle })),
  };
  await page.getByTestId('import-grid').click();
  await page.getByTestId('import-text').fill(JSON.stringify({ name: 'Large grid', document: doc }));
  await page.getByTestId('import-submit').click();
  await expect(page.getByTestId('editor')).toBeVisible();
  const canvas = page.getByTestId('canvas');
  // opens detailed at a readable zoom, with only the visible nodes mounted
  await expect(canvas.locator('[data-testid="grid-node"][data-node-name="Node 0"]')).toBeVisible();
  expect(await canvas.getByTestId('grid-node').count()).toBeLessThan(200);
  await expect(canvas.getByTestId('grid-overview')).toHaveCount(0);
  await shot(page, '20-large-grid-default');

  // Fit: the whole grid on one canvas, no React Flow node elements
  await page.getByRole('button', { name: 'Fit view' }).click();
  await expect(canvas.getByTestId('grid-overview')).toBeVisible();
  await expect(canvas.getByTestId('grid-node')).toHaveCount(0);
  await shot(page, '21-large-grid-overview');

  // a click where "Node 30" is drawn (layer 1, row 5) selects it and opens its settings
  const n30 = await toScreen(page, { x: 300 + 110, y: 5 * 130 + 40 });
  await page.mouse.click(n30.x, n30.y);
  await expect(page.getByTestId('settings-panel')).toBeVisible();
  await expect(page.getByTestId('settings-panel')).toContainText('Node 30');
  await shot(page, '22-large-grid-overview-selected');

  // a double click on it zooms in to it: detailed nodes again, the overview gone, still selected
  const again = await toScreen(page, { x: 300 + 110, y: 5 * 130 + 40 });
  await page.mouse.dblclick(again.x, again.y);
  const node30 = canvas.locator('[data-testid="grid-node"][data-node-name="Node 30"]');
  await expect(node30).toBeVisible();
  await expect(node30).toHaveAttribute('data-lod', 'full');
  await expect(node30.getByTestId('port-out-pass')).toBeVisible();
  await expect(canvas.getByTestId('grid-overview')).toHaveCount(0);
  await expect(canvas.locator('.react-flow__node.selected [data-node-name="Node 30"]')).toBeVisible();
  await shot(page, '23-large-grid-zoomed-in');
  expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
});
