// Editing a draft by hand: each edit is a change operation checked as it is added, a refused
// one says why and changes nothing, and saving makes the next draft ("edited by hand"), which
// syncs.
import { expect } from '@playwright/test';
import { test, open, watchConsole, newUser, freshBrowser, pushLibrary, shot } from '../helpers';

test('hand edits make the next draft, checked one by one', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  // The diagram of draft 2 first: its places are kept for the domain.
  await open(page, `/domains/${domain.id}/drafts/2?view=diagram`);
  const member = page.getByTestId('diagram').locator('g.dm-entity[data-entity="member"]');
  await expect(member).toHaveCount(1);
  const memberPlace = await member.getAttribute('transform');
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  await open(page, `/domains/${domain.id}/drafts/2`);
  const dictionary = page.getByTestId('dictionary');
  await dictionary.locator('[data-entity="book"]').getByTestId('edit-entity').click();
  const panel = page.getByTestId('edit-panel');
  await expect(panel).toContainText('Edit draft 2 by hand');
  await expect(panel.locator('select[name=edit-table]')).toHaveValue('book');

  // A type that is not one is refused with a reason.
  await panel.locator('select[name=edit-kind]').selectOption('add-column');
  await panel.locator('input[name=edit-name]').fill('pages');
  await panel.locator('input[name=edit-type]').fill('wibble');
  await panel.getByTestId('add-edit').click();
  await expect(panel.getByRole('alert')).toContainText('is not a type');
  await expect(panel.getByRole('alert')).toContainText('VAL_EDIT');
  await expect(panel.getByTestId('edit')).toHaveCount(0);
  // A column that exists already is refused by the core.
  await panel.locator('input[name=edit-name]').fill('isbn');
  await panel.locator('input[name=edit-type]').fill('text');
  await panel.getByTestId('add-edit').click();
  await expect(panel.getByRole('alert')).toContainText('VAL_EDIT');
  await expect(panel.getByTestId('edit')).toHaveCount(0);

  // Two good edits: add a column, rename a table.
  await panel.locator('input[name=edit-name]').fill('pages');
  await panel.locator('input[name=edit-type]').fill('integer');
  await panel.getByTestId('add-edit').click();
  await expect(panel.getByTestId('edit')).toHaveCount(1);
  await expect(panel.getByTestId('edit').first()).toContainText('add attribute book.pages: integer, nullable');
  await panel.locator('select[name=edit-kind]').selectOption('rename-table');
  await panel.locator('select[name=edit-table]').selectOption('member');
  await panel.locator('input[name=edit-name]').fill('patron');
  await panel.getByTestId('add-edit').click();
  await expect(panel.getByTestId('edit')).toHaveCount(2);
  await expect(panel.getByTestId('diff')).toContainText('book.pages');
  await shot(page, 'hand-edit');
  await panel.getByTestId('save-edits').click();

  // Draft 3, edited by hand, with both changes; it syncs.
  await expect(page.getByTestId('draft-tabs').getByRole('link')).toHaveText(['Draft 1', 'Draft 2', 'Draft 3']);
  await expect(page.getByTestId('draft-view')).toHaveAttribute('data-number', '3');
  await expect(page.getByTestId('draft-view')).toContainText('edited by hand from draft 2 · 2 edits');
  await expect(dictionary.locator('[data-entity="book"]')).toContainText('pages');
  await expect(dictionary.locator('[data-entity="patron"]')).toBeVisible();
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  const other = await (await freshBrowser(browser, api)).newPage();
  await open(other, `/domains/${domain.id}/drafts/3`);
  await expect(other.getByTestId('dictionary').locator('[data-entity="patron"]')).toBeVisible();
  // In draft 3's diagram the renamed table keeps member's place.
  await open(page, `/domains/${domain.id}/drafts/3?view=diagram`);
  await expect(page.getByTestId('diagram').locator('g.dm-entity[data-entity="patron"]')).toHaveAttribute('transform', memberPlace!);
  // From the diagram: pick a table, edit it.
  await page.getByTestId('diagram-search').fill('loan');
  await page.getByTestId('diagram-search').press('Enter');
  await page.getByTestId('diagram-edit').click();
  await expect(page.getByTestId('edit-panel').locator('select[name=edit-table]')).toHaveValue('loan');
  expect(errors).toEqual([]);
  await context.close();
});

test('conventions are edited, shown, and go into the prompt the preview shows', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  await open(page, `/domains/${domain.id}`);
  await page.getByTestId('edit-domain').click();
  await page.locator('select[name=edit-domain-naming]').selectOption('snake_case');
  await page.locator('textarea[name=edit-domain-guidance]').fill('Surrogate uuid keys named id; timestamps with time zone.');
  await page.getByTestId('domain-edit').getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('domain-conventions')).toContainText('lower_snake_case names · Surrogate uuid keys named id');
  // A note and an instruction: the preview shows every section with its tokens.
  await page.getByTestId('notes').locator('textarea[name=note-text]').fill('Loans need a renewal count.');
  await page.getByTestId('notes').getByTestId('add-note').click();
  await page.locator('textarea[name=instruction]').fill('add fines for late returns');
  const preview = page.getByTestId('prompt-preview');
  await preview.locator('summary').first().click();
  await expect(preview.getByTestId('prompt-total')).toContainText('tokens in');
  const section = (title: string) => preview.getByTestId('prompt-section')
    .filter({ has: page.locator('.section-title', { hasText: new RegExp(`^${title.replace(/[()]/g, '\\$&')}$`) }) });
  await expect(section('Conventions')).toHaveCount(1);
  await section('Conventions').locator('summary').click();
  await expect(section('Conventions').locator('pre')).toContainText('Surrogate uuid keys named id');
  await expect(section('Change notes since the latest draft')).toHaveCount(1);
  await expect(section('Instructions')).toHaveCount(1);
  await expect(section('Current model (latest draft)')).toContainText('tokens');
  await shot(page, 'prompt-preview');
  // The conventions sync with the domain.
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  const other = await (await freshBrowser(browser, api)).newPage();
  await open(other, `/domains/${domain.id}`);
  await expect(other.getByTestId('domain-conventions')).toContainText('Surrogate uuid keys');
  expect(errors).toEqual([]);
  await context.close();
});
