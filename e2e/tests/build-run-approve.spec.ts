/**
 * The main path of an ops user: build a grid from an empty canvas (drag, connect), configure it
 * through the forms (with a field error), undo/redo, publish, run, watch the statuses live, approve
 * in the inbox, see the run continue and the published post in the step output, then restore an
 * old version and look at the diff.
 */
import { test, expect, baseUrl, shot, dragFromPalette, connect, outPort, inPort, selectNode, nodeByName, waitSaved } from '../fixtures.js';

test('build, configure, publish, run, approve, restore', async ({ page, account, consoleErrors }) => {
  expect(account.email).toContain('@');
  await expect(page.getByTestId('grids-empty')).toBeVisible();
  await shot(page, '01-grids-empty');

  // A LinkedIn account to publish to (its API is the fake one global-setup started).
  await page.getByTestId('nav-connections').click();
  await page.getByTestId('account-new').click();
  await page.getByTestId('account-platform').selectOption('linkedin');
  await page.getByTestId('account-id').fill('urn:li:organization:4242');
  await page.getByTestId('account-display-name').fill('Acme on LinkedIn');
  await page.getByTestId('account-token-input').fill('e2e-access-token');
  await page.getByTestId('account-save').click();
  await expect(page.getByTestId('account-row')).toHaveCount(1);
  await page.getByTestId('nav-grids').click();

  // ---------------------------------------------------------------- build from an empty canvas
  await page.getByTestId('new-grid').click();
  await expect(page.getByTestId('canvas-empty')).toBeVisible();
  await page.getByTestId('grid-name').fill('Blog post to LinkedIn');

  await dragFromPalette(page, 'trigger', 150, 200);
  await dragFromPalette(page, 'generate', 430, 200);
  await dragFromPalette(page, 'approval', 710, 200);
  await dragFromPalette(page, 'publish', 990, 200);
  await expect(page.getByTestId('grid-node')).toHaveCount(4);
  await waitSaved(page);

  await connect(page, outPort(page, 'Trigger', 'out'), inPort(page, 'Generate content', 'main'));
  await connect(page, outPort(page, 'Generate content', 'main'), inPort(page, 'Approval', 'main'));
  await connect(page, outPort(page, 'Approval', 'approved'), inPort(page, 'Publish', 'main'));
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);

  // A connection into a trigger is refused while dragging.
  await connect(page, outPort(page, 'Publish', 'main'), nodeByName(page, 'Trigger'));
  await expect(page.locator('.react-flow__edge')).toHaveCount(3);

  // ---------------------------------------------------------------- configure through the forms
  await selectNode(page, 'Trigger');
  await expect(page.getByTestId('field-mode')).toHaveValue('"manual"');

  await selectNode(page, 'Generate content');
  // The brief is required: the form says so inline until it is filled in.
  await expect(page.getByTestId('field-error-prompt')).toHaveText(/required/i);
  await page.getByTestId('field-prompt').fill('Announce our new blog post "{{ trigger.title }}" to LinkedIn readers.');
  await expect(page.getByTestId('field-error-prompt')).toHaveCount(0);
  // Out of range number → inline error, then fixed.
  await page.getByTestId('field-variants').fill('9');
  await expect(page.getByTestId('field-error-variants')).toHaveText(/at most 5/);
  await page.getByTestId('field-variants').fill('1');
  await expect(page.getByTestId('field-error-variants')).toHaveCount(0);
  await shot(page, '02-canvas-settings-form');

  await selectNode(page, 'Approval');
  await page.getByTestId('field-steps-add').click();
  await page.getByTestId('field-steps.0.name').fill('Marketing lead');
  await page.getByTestId('field-steps.0.approvers.roles-add').click();
  await page.getByTestId('field-steps.0.approvers.roles-0').selectOption('owner');
  await page.getByTestId('field-allowSelfApproval').check();

  await page.getByTestId('toolbar-fit').click();
  await selectNode(page, 'Publish');
  await page.getByTestId('field-platform').selectOption('"linkedin"');
  await waitSaved(page);

  // ---------------------------------------------------------------- undo / redo
  await page.getByTestId('palette-item-delay').click();
  await expect(page.getByTestId('grid-node')).toHaveCount(5);
  await page.locator('.react-flow__pane').click({ position: { x: 30, y: 30 } });
  await page.keyboard.press('Control+z');
  await expect(page.getByTestId('grid-node')).toHaveCount(4);
  await page.keyboard.press('Control+Shift+z');
  await expect(page.getByTestId('grid-node')).toHaveCount(5);
  await page.getByTestId('toolbar-undo').click();
  await expect(page.getByTestId('grid-node')).toHaveCount(4);
  await waitSaved(page);
  await page.getByTestId('toolbar-layout').click();
  await waitSaved(page);
  await shot(page, '03-canvas-built');

  // ---------------------------------------------------------------- publish v1
  await page.getByTestId('toolbar-publish').click();
  await page.getByTestId('publish-note').fill('First version: generate, approve, publish');
  await page.getByTestId('publish-confirm').click();
  await expect(page.getByTestId('toast')).toContainText('Published version 1');

  // ---------------------------------------------------------------- run and watch it live
  await page.getByTestId('toolbar-run').click();
  await expect(page.getByTestId('run-dialog')).toBeVisible();
  await page.getByTestId('run-input-json').fill('{"title":"Five lessons from shipping Gridflow"}');
  await page.getByTestId('run-start').click();
  await expect(page.getByTestId('run-bar')).toBeVisible();
  await expect(nodeByName(page, 'Trigger')).toHaveAttribute('data-status', 'completed');
  await expect(nodeByName(page, 'Generate content')).toHaveAttribute('data-status', 'completed');
  await expect(nodeByName(page, 'Approval')).toHaveAttribute('data-status', 'waiting', { timeout: 60_000 });
  await expect(page.getByTestId('run-status')).toHaveAttribute('data-status', 'waiting');
  await expect(page.getByTestId('timeline-row').first()).toBeVisible();
  await shot(page, '04-run-waiting-for-approval');
  const runUrl = page.url();

  // ---------------------------------------------------------------- approve in the inbox
  await page.getByTestId('nav-approvals').click();
  const card = page.getByTestId('approval-card').first();
  await expect(card).toBeVisible();
  await expect(card.getByTestId('approval-text')).not.toBeEmpty();
  await expect(card.getByTestId('approval-char-count')).toContainText('characters');
  // the request holds only the text: the platform comes from the run's upstream generate node
  await expect(card.getByTestId('approval-preview')).toContainText('LinkedIn');
  await shot(page, '05-approvals-inbox');
  await card.getByTestId('approval-comment').fill('Looks good, ship it.');
  await card.getByTestId('approval-approve').click();
  await expect(page.getByTestId('approvals-empty')).toBeVisible();

  // ---------------------------------------------------------------- the run continues; the post is in the output
  await page.goto(runUrl);
  await expect(nodeByName(page, 'Approval')).toHaveAttribute('data-status', 'completed', { timeout: 60_000 });
  await expect(nodeByName(page, 'Publish')).toHaveAttribute('data-status', /completed|failed/, { timeout: 60_000 });
  // Soft: the rest of the journey still runs when publishing fails, and the failure says why.
  await expect.soft(page.getByTestId('run-status')).toHaveAttribute('data-status', 'completed');
  await expect.soft(nodeByName(page, 'Publish')).toHaveAttribute('data-status', 'completed');
  await expect.soft(page.locator('.react-flow__edge.edge-taken')).toHaveCount(3);
  await nodeByName(page, 'Publish').locator('[data-testid="node-name"]').click();
  await expect(page.getByTestId('step-inspector')).toBeVisible();
  await expect.soft(page.getByTestId('inspector-output'), await page.getByTestId('run-bar').innerText()).toContainText('linkedin.com/feed/update/urn:li:share:');
  await shot(page, '06-run-after-approval-step-output');
  await page.getByTestId('run-close').click();

  // ---------------------------------------------------------------- change, publish v2, diff, restore v1
  await selectNode(page, 'Generate content');
  await page.getByTestId('field-prompt').fill('A completely different brief');
  await waitSaved(page);
  await page.getByTestId('toolbar-publish').click();
  await page.getByTestId('publish-note').fill('Second brief');
  await page.getByTestId('publish-confirm').click();
  await expect(page.getByTestId('toast')).toContainText('Published version 2');

  await page.getByTestId('toolbar-versions').click();
  await expect(page.getByTestId('version-row')).toHaveCount(2);
  await expect(page.getByTestId('version-author').first()).toContainText(account.name);
  await page.getByTestId('compare-a').selectOption('1');
  await page.getByTestId('compare-b').selectOption('2');
  await page.getByTestId('compare-run').click();
  await expect(page.getByTestId('diff-banner')).toBeVisible();
  await expect(page.getByTestId('diff-count-changed')).toHaveText('1 changed');
  await expect(page.locator('[data-testid="diff-canvas"] [data-testid="grid-node"][data-diff="changed"]')).toHaveCount(1);
  await page.locator('[data-testid="diff-canvas"] [data-testid="grid-node"][data-diff="changed"]').click();
  await expect(page.getByTestId('diff-field').first()).toContainText('config.prompt');
  await shot(page, '07-version-diff');
  await page.getByTestId('diff-close').click();

  await page.getByTestId('toolbar-versions').click();
  await page.locator('[data-testid="version-row"][data-version="1"] [data-testid="version-restore"]').click();
  await page.getByTestId('version-restore-confirm').click();
  await expect(page.getByTestId('toast')).toContainText('restored from v1');
  await page.getByTestId('versions-close').click();
  await selectNode(page, 'Generate content');
  await expect(page.getByTestId('field-prompt')).toHaveValue(/Announce our new blog post/);

  // Execution history of this grid.
  await page.getByTestId('toolbar-executions').click();
  await expect(page.getByTestId('execution-row')).toHaveCount(1);
  await expect(page.getByTestId('execution-row').first()).toHaveAttribute('data-status', /completed|failed/);
  await expect.soft(page.getByTestId('execution-row').first()).toHaveAttribute('data-status', 'completed');
  await shot(page, '08-executions');

  expect(consoleErrors, consoleErrors.join('\n')).toEqual([]);
  expect(baseUrl()).toMatch(/^http/);
});
