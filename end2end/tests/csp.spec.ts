// The Content-Security-Policy in a real browser: the page arrives with a nonce policy, its
// inline scripts carry that nonce, it hydrates, styles and talks to the API under it, and the
// guard every spec uses (`test` from helpers) does catch a violation.
import { expect } from '@playwright/test';
import { test, watchConsole, newUser, freshBrowser, pushLibrary, shot } from '../helpers';

test('the app hydrates and works under its nonce policy', async ({ browser, csp }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);

  const response = await page.goto('/login');
  const headers = response!.headers();
  const policy = headers['content-security-policy'];
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{22,}' 'wasm-unsafe-eval'/);
  expect(policy).toContain("frame-ancestors 'none'");
  expect(policy).toContain("style-src 'self'");
  expect(policy).not.toContain('unsafe-inline');
  expect(headers['x-frame-options']).toBe('DENY');
  const nonce = /'nonce-([^']+)'/.exec(policy)![1];
  // The browser hides a nonce from `getAttribute` once parsed; the `nonce` property keeps it.
  const nonces = await page.evaluate(() =>
    Array.from(document.scripts).filter((s) => !s.src).map((s) => s.nonce));
  expect(nonces.length).toBeGreaterThan(0);
  expect(new Set(nonces)).toEqual(new Set([nonce]));

  // Hydrated: the wasm ran (script-src 'self' and 'wasm-unsafe-eval') and set its signal.
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  // Styled from the stylesheet (style-src 'self'): the card has the stylesheet's padding.
  await expect.poll(() => page.locator('.card').evaluate((e) => getComputedStyle(e).paddingTop))
    .not.toBe('0px');
  // Event handlers and the API (connect-src 'self'): a wrong sign-in is answered on the page.
  await page.getByLabel('Username').fill('nobody-here');
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await shot(page, 'csp-sign-in-answered');

  // A script without the nonce is blocked, and the guard reports it.
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'window.__injected = true';
    document.body.appendChild(script);
  });
  await expect.poll(() => csp.violations.length).toBeGreaterThan(0);
  expect(csp.violations.join('\n')).toContain('script-src');
  expect(await page.evaluate(() => (window as { __injected?: boolean }).__injected)).toBeUndefined();
  // Provoked on purpose: not a failure of this test.
  csp.violations.length = 0;
  expect(errors.filter((e) => !/CSP violation|Content Security Policy/.test(e))).toEqual([]);
});

test('a domain page renders its draft under the policy', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  const response = await page.goto(`/domains/${domain.id}`);
  expect(response!.headers()['content-security-policy']).toContain("'nonce-");
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(page.getByTestId('dictionary').locator('[data-entity="book"]')).toBeVisible();
  await shot(page, 'csp-domain');
  // The home page, signed in: the domain list, filled in after hydration from IndexedDB.
  await page.getByRole('link', { name: 'Domains' }).first().click();
  await expect(page.getByRole('link', { name: 'library' })).toBeVisible();
  await shot(page, 'csp-home');
  expect(errors).toEqual([]);
});
