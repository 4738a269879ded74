/** Shared helpers: a signed-up user per test, canvas gestures by data-testid, screenshots. */
import { test as base, expect, type Locator, type Page } from '@playwright/test';

export const baseUrl = () => {
  const u = process.env.E2E_BASE_URL;
  if (!u) throw new Error('E2E_BASE_URL is not set (global setup did not start the server)');
  return u;
};

export interface Account {
  email: string;
  password: string;
  name: string;
}

export const test = base.extend<{ account: Account; consoleErrors: string[] }>({
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${m.text()} ${m.location().url ?? ''}`.trim());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await use(errors);
  },
  account: async ({ page }, use) => {
    const account = { email: `ops-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`, password: 'correct horse battery', name: 'Olivia Ops' };
    await page.goto(baseUrl());
    await page.getByTestId('tab-signup').click();
    await page.getByTestId('auth-name').fill(account.name);
    await page.getByTestId('auth-email').fill(account.email);
    await page.getByTestId('auth-password').fill(account.password);
    await page.getByTestId('auth-workspaceName').fill('Acme Content Team');
    await page.getByTestId('auth-submit').click();
    await expect(page.getByTestId('current-user')).toHaveText(account.name);
    await use(account);
  },
});
export { expect };

export async function shot(page: Page, name: string) {
  await page.waitForTimeout(250);
  await page.screenshot({ path: `artifacts/${name}.png` });
}

export const nodeByName = (page: Page, name: string) => page.locator(`[data-testid="grid-node"][data-node-name="${name}"]`);

/** Drags a palette item onto the canvas at (x, y) relative to the canvas. */
export async function dragFromPalette(page: Page, type: string, x: number, y: number) {
  // HTML5 drag and drop with a real DataTransfer through the app's own dragstart/dragover/drop
  // handlers (Playwright's mouse-driven dragTo sometimes starts the drag on a neighbouring item).
  const canvas = page.getByTestId('canvas');
  const box = await canvas.boundingBox();
  if (!box) throw new Error('canvas not visible');
  const dataTransfer = await page.evaluateHandle(() => new DataTransfer());
  await page.getByTestId(`palette-item-${type}`).dispatchEvent('dragstart', { dataTransfer });
  const at = { dataTransfer, clientX: box.x + x, clientY: box.y + y, bubbles: true };
  await canvas.locator('.react-flow__pane').dispatchEvent('dragover', at);
  await canvas.locator('.react-flow__pane').dispatchEvent('drop', at);
  // The new node is selected and opens its settings; close them so the whole canvas stays free.
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('settings-panel')).toHaveCount(0);
}

async function center(l: Locator) {
  const b = await l.boundingBox();
  if (!b) throw new Error('element not visible');
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

/** Drags from an output port to an input port with the mouse (React Flow's connection gesture). */
export async function connect(page: Page, from: Locator, to: Locator) {
  const a = await center(from);
  const b = await center(to);
  await page.mouse.move(a.x, a.y);
  await page.mouse.down();
  await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
  await page.mouse.move(b.x, b.y, { steps: 8 });
  await page.mouse.up();
}

export const outPort = (page: Page, nodeName: string, port: string) => nodeByName(page, nodeName).locator(`[data-testid="port-out-${port}"]`);
export const inPort = (page: Page, nodeName: string, port: string) => nodeByName(page, nodeName).locator(`[data-testid="port-in-${port}"]`);

export async function selectNode(page: Page, name: string) {
  await nodeByName(page, name).locator('[data-testid="node-name"]').click();
  await expect(page.getByTestId('settings-panel').locator('h2').first()).toHaveText(name);
}

export async function waitSaved(page: Page) {
  await expect(page.getByTestId('save-status')).toHaveAttribute('data-status', 'saved', { timeout: 20_000 });
}
