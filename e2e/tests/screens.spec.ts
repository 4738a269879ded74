/** The other screens open with their empty states and forms: brand profiles, connections, help. */
import { test, expect, shot } from '../fixtures.js';

test('brand profile, connection and shortcuts help', async ({ page, account, consoleErrors }) => {
  expect(account.email).toBeTruthy();
  await page.getByTestId('nav-brand').click();
  await expect(page.getByTestId('brand-empty')).toBeVisible();
  await page.getByTestId('brand-new').click();
  await page.getByTestId('brand-name').fill('Acme');
  await page.getByTestId('brand-voice').fill('Confident, warm, never salesy.');
  await page.getByTestId('brand-banned').fill('cheap, guarantee');
  await page.getByTestId('brand-save').click();
  await expect(page.getByTestId('brand-item')).toHaveCount(1);
  await page.getByTestId('knowledge-content').fill('Our product helps content teams publish with confidence.');
  await page.getByTestId('knowledge-add').click();
  await expect(page.getByTestId('knowledge-item')).toHaveCount(1);
  await shot(page, '12-brand-profile');

  await page.getByTestId('nav-connections').click();
  await expect(page.getByTestId('accounts-empty')).toBeVisible();
  await page.getByTestId('account-new').click();
  await page.getByTestId('account-platform').selectOption('linkedin');
  await page.getByTestId('account-id').fill('urn:li:organization:42');
  await page.getByTestId('account-display-name').fill('Acme on LinkedIn');
  await page.getByTestId('account-token-input').fill('secret-token-value');
  await page.getByTestId('account-save').click();
  await expect(page.getByTestId('account-row')).toHaveCount(1);
  await expect(page.getByTestId('account-token')).toHaveText(/stored/);
  await expect(page.locator('body')).not.toContainText('secret-token-value');
  await shot(page, '13-connections');

  await page.getByTestId('nav-grids').click();
  await page.getByTestId('new-grid').click();
  await page.getByTestId('toolbar-help').click();
  await expect(page.getByTestId('help-panel')).toContainText('Undo');
  await shot(page, '14-help');
  expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
});
