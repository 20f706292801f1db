// The installable app: a manifest Chromium accepts, a service worker that keeps the bundles
// and the pages, a cold start with the server stopped (its process, not just the network),
// an update from one build to the next at the same address, and a sign-out that leaves no
// page behind. These tests run their own server process on a port of their own, so they can
// stop and restart it.
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, open, watchConsole, addProvider, uniqueName, shot, fakeRequests } from '../helpers';
import { FAKE_KEY, FAKE_PORT } from '../env';
import { OwnServer, target } from '../own-server';

const PORT = Number(process.env.E2E_PWA_PORT ?? 3150);
const BASE = `http://127.0.0.1:${PORT}`;

/** A copy of the built site with one more byte in its stylesheet: build B of the same app. */
function nextBuild(from: string): string {
  const to = fs.mkdtempSync(path.join(os.tmpdir(), 'dm-site-b-'));
  fs.cpSync(from, to, { recursive: true });
  const manifestPath = path.join(to, 'pkg', 'assets.json');
  const assets = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const css = fs.readFileSync(path.join(to, 'pkg', assets.css), 'utf8') + '\n/* build B */\n';
  const hash = createHash('sha256').update(css).digest('hex').slice(0, 16);
  assets.css = `data-modeller.${hash}.css`;
  fs.writeFileSync(path.join(to, 'pkg', assets.css), css);
  fs.writeFileSync(manifestPath, JSON.stringify(assets, null, 2));
  return to;
}

/** Runs `body` with a server of its own and a user with the library; both go afterwards,
 * whatever happens. */
async function withServer(
  browser: Browser,
  body: (server: OwnServer, user: { context: BrowserContext; domain: { id: string } }) => Promise<void>,
) {
  const server = new OwnServer(PORT, 'debug', {
    DM_UPSTREAM_ALLOW: `127.0.0.1:${FAKE_PORT}`,
    DM_AUTH_ATTEMPTS_PER_MINUTE: '120',
  });
  await server.start();
  try {
    const user = await server.userWithLibrary(browser, 'pwa');
    try {
      await body(server, user);
    } finally {
      await user.context.close();
    }
  } finally {
    await server.stop();
  }
}

/** Waits until a service worker controls `page`. */
async function controlled(page: Page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) {
    await page.reload();
    await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  }
  expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
}

/** One online visit of `address` in a new page of `context`: the service worker controls it and
 * the first sync round is done. The page's console errors go to `errors`. */
async function onlineVisit(context: BrowserContext, address: string) {
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  await open(page, address);
  await controlled(page);
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  return { page, errors };
}

/** Every URL kept in Cache Storage, and whether any kept body contains `secret`. */
async function cached(page: Page, secret: string) {
  return await page.evaluate(async (secret) => {
    const urls: string[] = [];
    let leaked = false;
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        urls.push(`${name} ${new URL(request.url).pathname}`);
        const response = await cache.match(request);
        const type = response?.headers.get('content-type') ?? '';
        if (!type.includes('wasm') && (await response!.text()).includes(secret)) leaked = true;
      }
    }
    return { urls, leaked };
  }, secret);
}

test('the manifest parses and Chromium finds the app installable', async ({ browser }) => withServer(browser, async (_server, { context }) => {
  const page = await context.newPage();
  await open(page, '/');
  await controlled(page);
  const cdp = await context.newCDPSession(page);
  const manifest = await cdp.send('Page.getAppManifest');
  expect(manifest.errors).toEqual([]);
  expect(manifest.url).toBe(`${BASE}/manifest.webmanifest`);
  const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
  // Headless and incognito-like contexts are all Chromium may object to here.
  const ids = installabilityErrors.map((e: { errorId: string }) => e.errorId);
  expect(ids.filter((id: string) => !['in-incognito', 'not-in-main-frame'].includes(id))).toEqual([]);
  const worker = await (await context.request.get('/sw.js')).text();
  expect(worker).toMatch(/^const BUILD = "[0-9a-f]{16}";/);
  // Settings says how much the app keeps here and whether the browser promised to keep it.
  await open(page, '/settings');
  await expect(page.getByTestId('storage-use')).toContainText(/Data Modeller keeps [\d.]+ [KMG]?B here, of about [\d.]+ [KMGT]?B/);
}));

test('a cold start with the server stopped opens the domains, drafts, a review never visited and an export', async ({ browser }) => withServer(browser, async (server, { context, domain }) => {
  const siteA = path.join(target, 'site');
  await addProvider(context);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  await open(page, '/');
  await expect(page.getByText('library').first()).toBeVisible();
  await controlled(page);
  await open(page, `/domains/${domain.id}/drafts/2`);
  await expect(page.getByTestId('dictionary').locator('[data-entity="audit_log"]')).toBeVisible();
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  // What is kept: bundles and pages, never an API answer, never a provider key.
  const kept = await cached(page, FAKE_KEY);
  expect(kept.urls.some((u) => u.includes('/pkg/'))).toBe(true);
  expect(kept.urls.filter((u) => u.includes('/api/'))).toEqual([]);
  expect(kept.leaked).toBe(false);
  await page.close();

  // The server process stops: nothing answers on its port.
  await server.stop();
  const cold = await context.newPage();
  const coldErrors: string[] = [];
  watchConsole(cold, coldErrors);
  await open(cold, '/');
  await expect(cold.getByText('library').first()).toBeVisible();
  await shot(cold, 'offline-domains');
  await open(cold, `/domains/${domain.id}/drafts/2`);
  await expect(cold.getByTestId('dictionary').locator('[data-entity="audit_log"]')).toBeVisible();
  // The provider list kept at the last online visit (no key in it).
  await expect(cold.locator('select[name=provider]')).toContainText('fake');
  // Never visited online: the kept start page, routed to the review.
  await cold.goto(`/domains/${domain.id}/review/1..2`);
  await expect(cold.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(cold).toHaveURL(`${BASE}/domains/${domain.id}/review/1..2`);
  await expect(cold.getByTestId('review')).toContainText('audit_log');
  await shot(cold, 'offline-review');
  // An export, made by the kept tools module.
  await open(cold, `/domains/${domain.id}/drafts/2/export`);
  await expect(cold.getByTestId('export-preview')).toContainText('audit_log');
  const [file] = await Promise.all([
    cold.waitForEvent('download'),
    cold.getByTestId('exports').getByTestId('download').click(),
  ]);
  expect(fs.readFileSync((await file.path())!, 'utf8').length).toBeGreaterThan(100);
  // Settings without the server: the providers as of the last visit, and each list that only
  // the server keeps says so, with no error to act on.
  await open(cold, '/settings');
  await expect(cold.getByTestId('providers')).toContainText('fake');
  await expect(cold.getByTestId('needs-server')).toHaveCount(4);
  await expect(cold.getByRole('alert')).toHaveCount(0);
  await shot(cold, 'offline-settings');
  expect(coldErrors).toEqual([]);

  // Build B at the same address: the banner offers it, and nothing local is lost.
  const siteB = nextBuild(siteA);
  await server.start(siteB);
  await open(cold, '/');
  const assetCaches = () => cold.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('dm-assets-')));
  const before = await assetCaches();
  expect(before).toHaveLength(1);
  await cold.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
  await expect(cold.getByTestId('update-banner')).toBeVisible();
  await shot(cold, 'update-banner');
  const reloaded = cold.waitForEvent('load');
  await cold.getByTestId('apply-update').click();
  await reloaded;
  await expect(cold.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(cold.getByTestId('update-banner')).toHaveCount(0);
  await expect(cold.getByText('library').first()).toBeVisible();
  // Build B's worker took over: it kept B's bundles and dropped A's, and the page has B's
  // stylesheet.
  const after = await assetCaches();
  expect(after).toHaveLength(1);
  expect(after).not.toEqual(before);
  const buildB = await cold.evaluate(async () => (await (await fetch('/sw.js')).text()).split('\n')[0]);
  expect(after[0]).toBe(`dm-assets-${buildB.match(/"([0-9a-f]+)"/)![1]}`);
  expect(await cold.locator('link[rel=stylesheet]').getAttribute('href')).toBe(
    `/pkg/${JSON.parse(fs.readFileSync(path.join(siteB, 'pkg', 'assets.json'), 'utf8')).css}`,
  );

  // Signing out leaves no page behind: they carry who was signed in.
  await cold.getByRole('button', { name: 'Sign out' }).click();
  await expect(cold).toHaveURL(/\/login/);
  await expect.poll(async () => await cold.evaluate(async () => (await caches.keys()).includes('dm-pages'))).toBe(false);
}));

/** How many chat requests the fake provider received whose messages mention `text`. */
async function providerCalls(context: BrowserContext, text: string): Promise<number> {
  const sent = await fakeRequests(context);
  return sent.filter((body) => JSON.stringify(body.messages).includes(text)).length;
}

test('a draft asked for while the server is away waits in the queue, streams in when it is back, and is saved once', async ({ browser }) => withServer(browser, async (server, { context, domain }) => {
  await addProvider(context);
  // One online visit: the pages, the bundles and the provider list are kept.
  const { page, errors } = await onlineVisit(context, `/domains/${domain.id}`);
  await expect(page.locator('select[name=provider]')).toContainText('fake');

  // The server process stops. A new domain is made here, and its first draft asked for:
  // the call finds nobody, so the request is queued, with what it asks.
  await server.stop();
  const name = uniqueName('reading');
  await open(page, '/');
  await page.locator('input[name=domain-name]').fill(name);
  await page.locator('textarea[name=domain-description]').fill('Reading lists that members keep.');
  await page.getByRole('button', { name: 'Create domain' }).click();
  await expect(page.getByTestId('domain-name')).toHaveText(name);
  await page.locator('textarea[name=instruction]').fill('members keep reading lists of books');
  await page.getByRole('button', { name: 'Generate first draft' }).click();
  const queued = page.getByTestId('queued');
  await expect(queued).toContainText('“members keep reading lists of books” · fake · fake-model');
  await expect(queued.getByTestId('queued-state')).toContainText('Waiting for the server');
  await expect(page.locator('textarea[name=instruction]')).toHaveValue('');
  await expect(page.getByRole('button', { name: 'Generate first draft' })).toBeDisabled();
  await expect(page.getByTestId('nav-queued')).toHaveText('1 request queued');
  await shot(page, 'queued-request');
  const domainUrl = page.url();
  await page.close();

  // A cold start, still without the server: the queue is still there, and the home page says
  // which domain has a request waiting.
  const cold = await context.newPage();
  watchConsole(cold, errors);
  await open(cold, '/');
  await expect(cold.getByTestId('domain-list').locator('li', { hasText: name }).getByTestId('queued-badge')).toBeVisible();
  await expect(cold.getByTestId('domain-list').locator('li', { hasText: 'library' }).getByTestId('queued-badge')).toHaveCount(0);
  await shot(cold, 'queued-badge');
  await open(cold, domainUrl);
  await expect(cold.getByTestId('queued')).toContainText('members keep reading lists of books');
  expect(await providerCalls(context, name)).toBe(0);

  // The server comes back; the network comes back: the next sync round reaches it, and the
  // request goes out with the user watching. The answer is saved as draft 1.
  await server.start();
  await cold.evaluate(() => window.dispatchEvent(new Event('online')));
  await expect(cold.getByTestId('generation-done')).toHaveText('Saved as draft 1.');
  await expect(cold.getByTestId('queued')).toHaveCount(0);
  await expect(cold.getByTestId('nav-queued')).toHaveCount(0);
  await expect(cold.getByTestId('dictionary').locator('[data-entity="book"]')).toBeVisible();
  await expect(cold.getByTestId('provenance-instruction')).toHaveText('members keep reading lists of books');
  expect(await providerCalls(context, name)).toBe(1);
  // Saved once: a reload and another sync round neither send it again nor save it twice.
  await open(cold, domainUrl);
  await expect(cold.getByTestId('sync-status')).toHaveText('all synced');
  await expect(cold.getByTestId('draft-tabs').locator('a')).toHaveCount(1);
  await open(cold, '/');
  await expect(cold.getByTestId('queued-badge')).toHaveCount(0);
  expect(await providerCalls(context, name)).toBe(1);
  // The server has the draft: the domain's drafts as another device pulls them.
  const newId = new URL(domainUrl).pathname.split('/')[2];
  const pulled = await (await context.request.get(`/api/v1/sync/pull?client_id=${randomUUID()}&since=0`)).json();
  expect(pulled.drafts.filter((d: { domain_id: string }) => d.domain_id === newId)).toHaveLength(1);

  // With no network at all the request is not even tried; cancelled, it leaves the queue,
  // its instruction comes back to the form, and nothing is sent when the network returns.
  await open(cold, domainUrl);
  await context.setOffline(true);
  await cold.locator('textarea[name=instruction]').fill('add a due date to reading lists');
  await cold.getByRole('button', { name: 'Generate next draft' }).click();
  await expect(cold.getByTestId('queued')).toContainText('add a due date to reading lists');
  // Removing this browser's copy would drop the queued request: signing out says so first.
  await cold.getByRole('link', { name: 'Settings' }).first().click();
  const thisBrowser = cold.getByTestId('this-browser');
  await thisBrowser.getByTestId('remove-local-copy').click();
  await expect(thisBrowser.getByRole('alert')).toContainText('1 LLM request is queued in this browser and would be lost');
  await expect(thisBrowser.getByRole('alert')).toContainText('CLIENT_QUEUED');
  await cold.goBack();
  await cold.getByTestId('cancel-queued').click();
  await expect(cold.getByTestId('queued')).toHaveCount(0);
  await expect(cold.locator('textarea[name=instruction]')).toHaveValue('add a due date to reading lists');
  await context.setOffline(false);
  await expect(cold.getByTestId('sync-status')).toHaveText('all synced');
  expect(await providerCalls(context, 'add a due date to reading lists')).toBe(0);
  expect(errors).toEqual([]);
}));

test('a queued request that fails waits for the user, and one cancelled while it streams gives its instruction back', async ({ browser }) => withServer(browser, async (server, { context, domain }) => {
  // A provider that refuses its first call (a 400 is not retried), and a slow one. The
  // fake counts calls per model name, so the names are this test's own.
  const flakyModel = `fake-model?status=400&times=1&run=${randomUUID()}`;
  const slowModel = `fake-model?first_byte_ms=4000&run=${randomUUID()}`;
  await addProvider(context, 'flaky', flakyModel);
  await addProvider(context, 'slow', slowModel);
  const calls = async (model: string) => (await fakeRequests(context)).filter((body) => body.model === model).length;
  const { page, errors } = await onlineVisit(context, `/domains/${domain.id}`);
  await page.locator('select[name=provider]').selectOption({ label: `flaky · ${flakyModel}` });

  // Queued without the server; when it is back, the call fails: the request stays, with
  // the provider's error, and is not sent again by itself, even after a reload.
  await server.stop();
  await page.locator('textarea[name=instruction]').fill('add an audit log');
  await page.getByRole('button', { name: 'Generate next draft' }).click();
  const queued = page.getByTestId('queued');
  await expect(queued).toContainText('“add an audit log” · flaky');
  await server.start();
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await expect(queued.getByTestId('queued-state')).toHaveText('The last attempt failed: send it again, or cancel it.');
  await expect(queued.getByRole('alert')).toContainText('AI_');
  await expect(queued.getByTestId('send-queued')).toHaveText('Send again');
  await shot(page, 'queued-failed');
  expect(await calls(flakyModel)).toBe(1);
  await open(page, `/domains/${domain.id}`);
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  await expect(page.getByTestId('queued').getByTestId('queued-state')).toContainText('The last attempt failed');
  expect(await calls(flakyModel)).toBe(1);
  // Sent again by the user: the provider answers now, and the proposal is kept once.
  await page.getByTestId('queued').getByTestId('send-queued').click();
  await expect(page.getByTestId('generation-proposed')).toHaveText('6 changes proposed: review them.');
  await expect(page.getByTestId('queued')).toHaveCount(0);
  expect(await calls(flakyModel)).toBe(2);
  await page.getByTestId('proposal').getByRole('button', { name: 'Discard' }).click();
  await expect(page.getByTestId('proposal')).toHaveCount(0);

  // Queued again with the slow provider; cancelled while it is being sent, the request
  // leaves the queue and its instruction comes back to the form.
  await page.locator('select[name=provider]').selectOption({ label: `slow · ${slowModel}` });
  await context.setOffline(true);
  await page.locator('textarea[name=instruction]').fill('add soft deletes');
  await page.getByRole('button', { name: 'Generate next draft' }).click();
  await expect(page.getByTestId('queued')).toContainText('add soft deletes');
  await expect(page.locator('textarea[name=instruction]')).toHaveValue('');
  await context.setOffline(false);
  await expect(page.getByTestId('progress')).toBeVisible();
  await expect(page.getByTestId('queued').getByTestId('cancel-queued')).toBeDisabled();
  await page.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(page.getByTestId('generation-failed')).toContainText('generation cancelled');
  await expect(page.getByTestId('queued')).toHaveCount(0);
  await expect(page.locator('textarea[name=instruction]')).toHaveValue('add soft deletes');
  await expect(page.getByTestId('proposal')).toHaveCount(0);
  expect(errors).toEqual([]);
}));
