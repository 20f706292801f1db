// Pages follow the state: what a sync round brings shows on the open page, and a page opened
// offline recovers by itself when the network returns. Each test is one of the failures a new
// user met (restructure issue, item 4), driven as that user would: a fresh browser with only the
// session cookie, and another device that pushes through the API.
import { expect } from '@playwright/test';
import {
  test,
  open, watchConsole, newUser, freshBrowser, pushLibrary, pushDraft, addProvider, holdRequests,
  LIBRARY_V1, shot,
} from '../helpers';
import { randomUUID } from 'node:crypto';

test('a domain link opened cold waits for the first sync instead of saying "Domain not found"', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);

  // Hold the first pull: while it runs, the page says it is looking, never "not found".
  const release = await holdRequests(page, '**/api/v1/sync/pull?**');
  await open(page, `/domains/${domain.id}`);
  await expect(page.getByTestId('domain-waiting')).toBeVisible();
  await expect(page.getByTestId('sync-status')).toHaveText('syncing…');
  await expect(page.getByText('Domain not found')).toHaveCount(0);
  await shot(page, 'domain-waiting');
  release();

  // Once the pull is merged, the page shows the domain and its latest draft, without a reload.
  await expect(page.getByTestId('domain-name')).toHaveText('library');
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  await expect(page.getByTestId('draft-tabs').getByRole('link')).toHaveText(['Draft 1', 'Draft 2']);
  await expect(page.getByTestId('draft-view')).toHaveAttribute('data-number', '2');
  await expect(page.getByText('Domain not found')).toHaveCount(0);
  // This user has no provider yet: the form says where to add one.
  await expect(page.getByTestId('no-provider')).toContainText('add one under Settings');
  await shot(page, 'domain-page');

  // A domain that truly does not exist is "not found", but only once the sync has answered.
  await open(page, `/domains/${randomUUID()}`);
  await expect(page.getByTestId('domain-not-found')).toBeVisible();
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');

  expect(errors).toEqual([]);
  await context.close();
  await api.close();
});

test('a draft saved on another device appears after a sync round, without navigating', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain, drafts } = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  await open(page, `/domains/${domain.id}`);
  await expect(page.getByTestId('draft-tabs').getByRole('link')).toHaveText(['Draft 1', 'Draft 2']);
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');

  // Another device saves draft 3 (back to the v1 model); this page learns of it on its next sync.
  await pushDraft(api, domain.id, drafts[1], LIBRARY_V1);
  await page.getByTestId('sync-status').click();
  await expect(page.getByTestId('draft-tabs').getByRole('link')).toHaveText(['Draft 1', 'Draft 2', 'Draft 3']);
  // The page was showing the latest draft, so it now shows the new latest one.
  await expect(page.getByTestId('draft-view')).toHaveAttribute('data-number', '3');
  expect(page.url()).toMatch(new RegExp(`/domains/${domain.id}$`));

  expect(errors).toEqual([]);
  await context.close();
  await api.close();
});

test('a page opened offline recovers when the network returns', async ({ browser }) => {
  const { api } = await newUser(browser);
  await addProvider(api);
  const { domain } = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  await open(page, '/');
  await expect(page.getByTestId('domain-list')).toContainText('library');
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');

  // Offline, the domain page opens from IndexedDB but cannot reach the server for providers.
  await context.setOffline(true);
  await page.getByRole('link', { name: 'library' }).click();
  await expect(page.getByTestId('domain-name')).toHaveText('library');
  await expect(page.getByRole('alert')).toContainText('the server could not be reached');
  await expect(page.locator('select[name=provider] option')).toHaveCount(0);

  // Back online: no click, no reload. The `online` event runs a sync, reloads the providers
  // and clears the stale error.
  await context.setOffline(false);
  await expect(page.locator('select[name=provider] option')).toHaveText(['fake · fake-model']);
  await expect(page.getByRole('alert')).toHaveCount(0);
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');

  expect(errors).toEqual([]);
  await context.close();
  await api.close();
});

test('a failed sync round says its code, the badge tells when it last succeeded, and coming back to the tab syncs', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  await open(page, `/domains/${domain.id}`);
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  await expect(page.getByTestId('sync-status')).toHaveAttribute('title', /^last synced \d{4}-\d\d-\d\d \d\d:\d\d UTC · click to sync now$/);

  // A server failure is not "offline": the badge names the code, the tooltip the message.
  await page.route('**/api/v1/sync/pull?**', (route) => route.fulfill({
    status: 500,
    contentType: 'application/json',
    body: JSON.stringify({ error: { code: 'DB_ERROR', message: 'something went wrong on the server: try again' } }),
  }));
  await page.getByTestId('sync-status').click();
  await expect(page.getByTestId('sync-status')).toHaveText('sync failed (DB_ERROR) · 0 not synced');
  await expect(page.getByTestId('sync-status')).toHaveAttribute('title', /^DB_ERROR: something went wrong on the server: try again · last synced .* UTC · click to sync now$/);
  await page.unroute('**/api/v1/sync/pull?**');

  // The tab coming back into view starts a round by itself.
  const pulled = page.waitForRequest('**/api/v1/sync/pull?**');
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange', { bubbles: true })));
  await pulled;
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  await context.close();
  await api.close();
});

test('domains are searched and sorted, and the URL keeps both', async ({ browser }) => {
  const { api } = await newUser(browser);
  // Pushed a few milliseconds apart, so that "recently changed" has an order to show.
  for (const name of ['billing', 'library', 'Archive']) {
    await pushLibrary(api, name);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  await open(page, '/');
  const list = page.getByTestId('domain-list').getByRole('link');
  // Recently changed first: the last pushed is on top.
  await expect(list).toHaveText(['Archive', 'library', 'billing']);
  await page.locator('select[name=domain-sort]').selectOption('name');
  await expect(list).toHaveText(['Archive', 'billing', 'library']);
  await expect(page).toHaveURL(/\?sort=name$/);
  // Every word must match, in the name or the description, ignoring case.
  await page.locator('input[name=domain-search]').fill('LENDING bil');
  await expect(list).toHaveText(['billing']);
  await expect(page).toHaveURL(/q=LENDING/);
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(list).toHaveText(['billing']);
  await expect(page.locator('input[name=domain-search]')).toHaveValue('LENDING bil');
  await expect(page.locator('select[name=domain-sort]')).toHaveValue('name');
  await page.locator('input[name=domain-search]').fill('nothing like it');
  await expect(page.getByTestId('no-match')).toHaveText('No domain matches “nothing like it”.');
  await shot(page, 'domain-search');
  await context.close();
  await api.close();
});

test('a domain is renamed and described in place, and the change reaches another device', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api, 'libary');
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  await open(page, `/domains/${domain.id}`);
  await expect(page.getByTestId('domain-name')).toHaveText('libary');
  await page.getByTestId('edit-domain').click();
  const form = page.getByTestId('domain-edit');
  await expect(form.locator('input[name=edit-domain-name]')).toHaveValue('libary');
  await form.locator('input[name=edit-domain-name]').fill('library');
  await form.locator('textarea[name=edit-domain-description]').fill('Books, members and loans.');
  await shot(page, 'domain-edit');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('domain-name')).toHaveText('library');
  await expect(page.getByTestId('domain-description')).toHaveText('Books, members and loans.');
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  // The drafts are untouched.
  await expect(page.getByTestId('draft-tabs').getByRole('link')).toHaveText(['Draft 1', 'Draft 2']);

  // Another browser of the same user sees the new name after its first sync.
  const other = await (await freshBrowser(browser, api)).newPage();
  await open(other, '/');
  await expect(other.getByTestId('domain-list')).toContainText('library');
  await expect(other.getByTestId('domain-list')).toContainText('Books, members and loans.');
  await expect(other.getByTestId('domain-list')).not.toContainText('libary');
  await other.context().close();
  await context.close();
  await api.close();
});
