// Share links: a read-only link to a draft (or a review pair) that opens without an account.
// A plain link is rendered by the server and reads without JavaScript; an encrypted one is
// sealed in the owner's browser, and its key, in the fragment, never reaches the server.
import { expect, type BrowserContext, type Page, type Request } from '@playwright/test';
import * as fs from 'node:fs';
import { test, open, watchConsole, newUser, freshBrowser, pushLibrary, shot, LIBRARY_V2 } from '../helpers';

const TABLES: string[] = LIBRARY_V2.entities.map((e: { name: string }) => e.name);

/** Makes a link from the share panel that is open on `page` and returns it. */
async function makeLink(page: Page, options: { encrypted?: boolean; label?: string; expiry?: string } = {}) {
  const panel = page.getByTestId('share-panel');
  await expect(panel).toBeVisible();
  if (options.expiry) await panel.locator('select[name=share-expiry]').selectOption(options.expiry);
  if (options.label) await panel.locator('input[name=share-label]').fill(options.label);
  if (options.encrypted) await panel.locator('input[name=share-encrypted]').check();
  await panel.getByTestId('create-share').click();
  const url = panel.getByTestId('share-url');
  await expect(url).toBeVisible();
  return await url.inputValue();
}

/** Reads a download the page starts with `click`. */
async function download(page: Page, click: () => Promise<void>) {
  const [file] = await Promise.all([page.waitForEvent('download'), click()]);
  const where = await file.path();
  return { name: file.suggestedFilename(), text: fs.readFileSync(where!, 'utf8') };
}

/** Every URL and Referer the context's pages send. */
function recordRequests(context: BrowserContext): string[] {
  const seen: string[] = [];
  context.on('request', (r: Request) => {
    seen.push(r.url());
    const referer = r.headers()['referer'];
    if (referer) seen.push(`referer: ${referer}`);
  });
  return seen;
}

test('a plain link reads without an account or JavaScript, counts its opens and can be revoked', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const owner = await freshBrowser(browser, api);
  const page = await owner.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  await open(page, `/domains/${domain.id}/drafts/2`);
  await page.getByTestId('share-draft').click();
  const url = await makeLink(page, { label: 'for the DBA', expiry: 'day' });
  expect(url).toMatch(/\/s\/[A-Za-z0-9_-]{43}$/);
  await shot(page, 'share-panel');

  // A reader without an account and without JavaScript.
  const reader = await browser.newContext({ javaScriptEnabled: false });
  const readerPage = await reader.newPage();
  const response = await readerPage.goto(url);
  expect(response!.status()).toBe(200);
  const headers = response!.headers();
  expect(headers['cache-control']).toContain('no-store');
  expect(headers['x-robots-tag']).toContain('noindex');
  expect(headers['referrer-policy']).toBe('no-referrer');
  expect(headers['content-security-policy']).not.toContain('script-src');
  for (const table of TABLES) await expect(readerPage.locator('body')).toContainText(table);
  await expect(readerPage.locator('svg').first()).toBeVisible();
  await expect(readerPage.locator('meta[name=robots]')).toHaveAttribute('content', /noindex/);
  await expect(readerPage.locator('meta[property="og:title"]')).toHaveCount(1);
  const sql = await download(readerPage, () => readerPage.locator('a[data-format="sql-postgres"]').click());
  expect(sql.name).toMatch(/\.sql$/);
  expect(sql.text).toContain('CREATE TABLE');
  await shot(readerPage, 'share-page-nojs');

  // With JavaScript on, the page has no script to fail.
  const withJs = await browser.newContext();
  const jsPage = await withJs.newPage();
  const jsErrors: string[] = [];
  watchConsole(jsPage, jsErrors);
  await jsPage.goto(url);
  await expect(jsPage.locator('body')).toContainText('loan');
  await shot(jsPage, 'share-page');
  expect(jsErrors).toEqual([]);

  // The owner sees it opened twice, in the panel and in Settings, and revokes it.
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await page.getByTestId('share-draft').click();
  const row = page.getByTestId('share-panel').getByTestId('shared-link');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('for the DBA');
  await expect(row).toContainText('2×');
  await expect(row).toHaveAttribute('data-status', 'active');
  await open(page, '/settings');
  await expect(page.getByTestId('settings-shares').getByTestId('shared-link')).toContainText(domain.name);
  await page.getByTestId('settings-shares').getByTestId('revoke-share').click();
  await expect(page.getByTestId('settings-shares').getByTestId('shared-link')).toHaveAttribute('data-status', 'revoked');

  // Revoked: the same answer as a link that never existed.
  const gone = await readerPage.goto(url);
  expect(gone!.status()).toBe(404);
  const revokedBody = await readerPage.content();
  const unknown = await readerPage.goto(url.replace(/\/s\/.*/, '/s/' + 'A'.repeat(43)));
  expect(unknown!.status()).toBe(404);
  expect(await readerPage.content()).toBe(revokedBody);
  expect(errors).toEqual([]);
  await Promise.all([owner.close(), reader.close(), withJs.close()]);
});

test('a review link shows the impact of the changes', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const owner = await freshBrowser(browser, api);
  const page = await owner.newPage();
  await open(page, `/domains/${domain.id}/review/1..2`);
  await page.getByTestId('share-review').click();
  await expect(page.getByTestId('share-panel')).toContainText('review of draft 2 against draft 1');
  const url = await makeLink(page);
  const reader = await browser.newContext({ javaScriptEnabled: false });
  const readerPage = await reader.newPage();
  expect((await readerPage.goto(url))!.status()).toBe(200);
  await expect(readerPage.locator('.share-impact')).toBeVisible();
  await expect(readerPage.locator('body')).toContainText('audit_log');
  const migration = await download(readerPage, () => readerPage.locator('a[data-format="migration-postgres"]').click());
  expect(migration.text).toContain('audit_log');
  await shot(readerPage, 'share-review-nojs');
  await Promise.all([owner.close(), reader.close()]);
});

test('an encrypted link opens in the reader\'s browser and its key never reaches the server', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const owner = await freshBrowser(browser, api);
  const ownerRequests = recordRequests(owner);
  const page = await owner.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  await open(page, `/domains/${domain.id}/drafts/2`);
  await page.getByTestId('share-draft').click();
  const url = await makeLink(page, { encrypted: true, label: 'sealed' });
  const match = url.match(/\/e\/([A-Za-z0-9_-]{43})#k=([A-Za-z0-9_-]{43})$/);
  expect(match, url).not.toBeNull();
  const key = match![2];

  // What the server holds and sends is ciphertext: no table name in the page's source.
  const source = await (await api.request.get(url.split('#')[0])).text();
  const sealed = source.match(/data-ciphertext="([A-Za-z0-9_-]+)"/);
  expect(sealed).not.toBeNull();
  const bytes = Buffer.from(sealed![1], 'base64url').toString('latin1');
  for (const table of TABLES) {
    expect(bytes).not.toContain(table);
    expect(source).not.toContain(`>${table}<`);
  }

  // A reader in a fresh browser, without an account.
  const reader = await browser.newContext();
  const readerRequests = recordRequests(reader);
  const readerPage = await reader.newPage();
  const readerErrors: string[] = [];
  watchConsole(readerPage, readerErrors);
  await readerPage.goto(url);
  await expect(readerPage.locator('#share')).toHaveAttribute('data-state', 'ready');
  for (const table of TABLES) await expect(readerPage.locator('#share')).toContainText(table);
  await expect(readerPage.locator('#share svg').first()).toBeVisible();
  const sql = await download(readerPage, () => readerPage.locator('a[data-format="sql-postgres"]').click());
  expect(sql.text).toContain('CREATE TABLE');
  await shot(readerPage, 'share-encrypted');
  expect(readerErrors).toEqual([]);

  // A wrong key and a missing one say so.
  // (By way of a blank page: a change of fragment alone would not load the page again.)
  // (A character in the middle: the last one carries two unused bits.)
  const wrong = key.slice(0, 10) + (key[10] === 'A' ? 'B' : 'A') + key.slice(11);
  await readerPage.goto('about:blank');
  await readerPage.goto(url.replace(`#k=${key}`, `#k=${wrong}`));
  await expect(readerPage.locator('#share-status')).toHaveAttribute('data-code', /SHARE_KEY_(WRONG|INVALID)/);
  await readerPage.goto('about:blank');
  await readerPage.goto(url.split('#')[0]);
  await expect(readerPage.locator('#share-status')).toHaveAttribute('data-code', 'SHARE_KEY_MISSING');
  await expect(readerPage.locator('#share-status')).toContainText('has no key');
  // Without JavaScript the page says why it cannot show anything.
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  const noJsPage = await noJs.newPage();
  await noJsPage.goto(url);
  await expect(noJsPage.locator('body')).toContainText('needs JavaScript');

  // Neither browser ever sent the key, in a URL or a Referer.
  for (const sent of [...ownerRequests, ...readerRequests]) expect(sent).not.toContain(key);
  expect(errors).toEqual([]);
  await Promise.all([owner.close(), reader.close(), noJs.close()]);
});
