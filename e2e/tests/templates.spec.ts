/** Template gallery: browse, preview read-only, install as a new draft grid with its setup checklist. */
import { test, expect, shot } from '../fixtures.js';

test('install a template from the gallery', async ({ page, account, consoleErrors }) => {
  expect(account.name).toBeTruthy();
  await page.getByTestId('nav-templates').click();
  await expect(page.getByTestId('template-card').first()).toBeVisible();
  const total = await page.getByTestId('template-card').count();
  expect(total).toBeGreaterThanOrEqual(1);
  await page.getByTestId('template-search').fill('linkedin');
  await expect(page.getByTestId('template-card').first()).toBeVisible();
  await page.getByTestId('template-search').fill('');
  await shot(page, '09-template-gallery');

  await page.getByTestId('template-card').first().getByTestId('template-preview').click();
  await expect(page.getByTestId('template-dialog')).toBeVisible();
  await expect(page.locator('[data-testid="template-preview-canvas"] [data-testid="grid-node"]').first()).toBeVisible();
  await shot(page, '10-template-preview');
  await page.getByTestId('template-install').click();

  await expect(page.getByTestId('editor')).toBeVisible();
  await expect(page.getByTestId('grid-node').first()).toBeVisible();
  await expect(page.getByTestId('save-status')).toHaveAttribute('data-status', 'saved');
  await shot(page, '11-template-installed');

  await page.getByTestId('nav-grids').click();
  await expect(page.getByTestId('grid-row')).toHaveCount(1);
  expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
});

test('a template with branch routes opens with every route handle and edge drawn', async ({ page, account, consoleErrors }) => {
  expect(account.name).toBeTruthy();
  await page.getByTestId('nav-templates').click();
  const card = page.locator('[data-testid="template-card"][data-slug="blog-post-to-linkedin"]');
  await expect(card).toBeVisible();
  // the read-only preview draws the route ports too
  await card.getByTestId('template-preview').click();
  const preview = page.getByTestId('template-preview-canvas');
  await expect(preview.locator('[data-node-type="branch"] [data-testid="port-out-review"]')).toBeVisible();
  await page.getByTestId('template-install').click();

  await expect(page.getByTestId('editor')).toBeVisible();
  const branch = page.locator('[data-testid="grid-node"][data-node-type="branch"]');
  await expect(branch).toBeVisible();
  // the route defined in the node's config ("review", labelled "score ≥ 70") and the static default
  await expect(branch.getByTestId('port-out-review')).toBeVisible();
  await expect(branch.getByTestId('port-out-default')).toBeVisible();
  await expect(branch.getByText('score ≥ 70')).toBeVisible();
  // every edge of the template (9) is drawn: none hangs on a missing handle
  await expect(page.locator('.react-flow__edge')).toHaveCount(9);
  await expect(page.getByTestId('save-status')).toHaveAttribute('data-status', 'saved');
  await shot(page, '12-template-branch-routes');
  expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
});
