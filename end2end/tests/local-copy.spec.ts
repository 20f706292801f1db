// On a shared computer: sign out and remove this browser's copy of the work, but only once
// everything is synced, or after a warning that says how much would be lost (sync issue, item 5).
import { expect } from '@playwright/test';
import { test, open, watchConsole, newUser, freshBrowser, pushLibrary, CSRF, PASSWORD, shot } from '../helpers';

/** The names of this origin's IndexedDB databases. */
async function databases(page: import('@playwright/test').Page): Promise<string[]> {
  return page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name ?? ''));
}

test('signing out removes the local copy once it is synced, and warns first when it is not', async ({ browser }) => {
  const { username, api } = await newUser(browser);
  await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  await open(page, '/');
  await expect(page.getByTestId('who')).toHaveText(username);
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  const mine = (await databases(page)).filter((name) => name.startsWith('data-modeller-'));
  expect(mine).toHaveLength(1);

  // Offline, a new domain is saved here only: removing the copy now would lose it.
  await context.setOffline(true);
  await page.locator('input[name=domain-name]').fill('inventory');
  await page.getByRole('button', { name: 'Create domain' }).click();
  await expect(page.getByTestId('domain-name')).toHaveText('inventory');
  // Offline there is no page load (no service worker yet): the app's own link.
  await page.getByRole('link', { name: 'Settings' }).first().click();
  const section = page.getByTestId('this-browser');
  await expect(section.getByTestId('local-pending')).toHaveText('1 change here is not synced yet.');
  await section.getByTestId('remove-local-copy').click();
  await expect(section.locator('.error')).toContainText('1 change is not synced yet and would be lost');
  await expect(section.locator('.error')).toContainText('CLIENT_UNSYNCED');
  await expect(section.getByTestId('remove-anyway')).toBeVisible();
  await section.scrollIntoViewIfNeeded();
  await shot(page, 'local-copy-warning');
  expect(await databases(page)).toEqual(expect.arrayContaining(mine));
  await expect(page.getByTestId('who')).toHaveText(username);

  // Back online, the same button syncs first, then signs out and removes the copy: the
  // database, and the pages the service worker kept (they show who was signed in).
  await context.setOffline(false);
  const keptPages = () => page.evaluate(async () => (await caches.keys()).includes('dm-pages'));
  await expect.poll(keptPages).toBe(true);
  await section.getByTestId('remove-local-copy').click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole('link', { name: 'Sign in' })).toBeVisible();
  expect((await databases(page)).filter((name) => name.startsWith('data-modeller-'))).toEqual([]);
  await expect.poll(keptPages).toBe(false);

  // What was synced is still on the server, the domain made offline included. (The browser
  // shared the API context's session, which its sign-out ended: sign in again.)
  const login = await api.request.post('/api/v1/auth/login', { headers: CSRF, data: { username, password: PASSWORD } });
  expect(login.ok()).toBe(true);
  const pulled = await api.request.get(`/api/v1/sync/pull?client_id=${crypto.randomUUID()}&since=0`);
  const names = (await pulled.json()).domains.map((d: { name: string }) => d.name).sort();
  expect(names).toEqual(['inventory', 'library']);
  expect(errors).toEqual([]);
  await context.close();
  await api.close();
});
