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
