// The first load: the server's HTML already knows who is signed in (no sign-in links that
// flash until the wasm has asked), the bundles come hashed, compressed and cacheable for a
// year, and the tools module (import, exports, migrations) is not part of what the page needs
// to show the domains, yet an export works.
import { expect } from '@playwright/test';
import { test, open, watchConsole, newUser, freshBrowser, pushLibrary, shot } from '../helpers';

test('a signed-in user gets their own page from the first byte, even without JavaScript', async ({ browser }) => {
  const { username, api } = await newUser(browser);
  await pushLibrary(api);

  // The raw HTML, before any script: the user's name in the bar, no sign-in offer, no
  // "checking your session" placeholder.
  const html = await (await api.request.get('/')).text();
  expect(html).toMatch(new RegExp(`data-testid="who"[^>]*>${username}<`));
  expect(html).not.toContain('No domains yet');
  expect(html).not.toContain('Checking your session');
  expect(html).not.toContain('href="/login"');

  // A browser with JavaScript off sees the same signed-in page.
  const cookies = await api.cookies();
  const noScript = await browser.newContext({ javaScriptEnabled: false });
  await noScript.addCookies(cookies);
  const still = await noScript.newPage();
  await still.goto('/');
  await expect(still.getByTestId('who')).toHaveText(username);
  await expect(still.getByRole('link', { name: 'Sign in' })).toHaveCount(0);
  await shot(still, 'first-load-signed-in-without-javascript');
  await noScript.close();

  // Signed out, the same page offers to sign in at once.
  const anonymous = await browser.newContext({ javaScriptEnabled: false });
  const page = await anonymous.newPage();
  await page.goto('/');
  await expect(page.getByRole('link', { name: 'Sign in' }).first()).toBeVisible();
  await expect(page.getByTestId('loading')).toHaveCount(0);
  await anonymous.close();
});

test('bundles are hashed, compressed and immutable; the tools module loads after the page and exports work', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  const bundles: { url: string; headers: Record<string, string> }[] = [];
  page.on('response', async (response) => {
    if (new URL(response.url()).pathname.startsWith('/pkg/')) {
      bundles.push({ url: response.url(), headers: await response.allHeaders() });
    }
  });
  await open(page, `/domains/${domain.id}/drafts/2`);
  await expect(page.getByTestId('dictionary').locator('[data-entity="audit_log"]')).toBeVisible();

  // The app's own module and its stylesheet: hashed names, brotli, cached for a year.
  const app = bundles.filter((b) => /\/pkg\/data-modeller\.[0-9a-f]{16}\.(wasm|js|css)$/.test(b.url));
  expect(app.map((b) => b.url.split('.').pop()).sort()).toEqual(['css', 'js', 'wasm']);
  for (const b of app) {
    expect(b.headers['cache-control'], b.url).toBe('public, max-age=31536000, immutable');
    expect(b.headers['content-encoding'], b.url).toBe('br');
  }

  // An export runs in the tools module, which came as its own hashed bundles.
  await page.getByRole('link', { name: 'Export' }).click();
  await page.locator('select[name=export-format]').selectOption({ label: 'SQL DDL · PostgreSQL' });
  await expect(page.getByTestId('export-preview')).toContainText('CREATE TABLE');
  await expect.poll(() => bundles.filter((b) => /data-modeller-tools\.[0-9a-f]{16}\.wasm$/.test(b.url)).length)
    .toBe(1);
  await shot(page, 'first-load-export-from-tools-module');
  expect(errors).toEqual([]);
  await context.close();
});
