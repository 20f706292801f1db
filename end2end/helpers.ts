// Shared set-up for the browser tests: accounts and data made through the JSON API (as another
// device of the same user would), and browser contexts that start with nothing but the session
// cookie (a fresh browser: empty IndexedDB, no local storage).
import { test as base, expect, Browser, BrowserContext, Page, APIRequestContext } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { FAKE_BASE_URL, FAKE_KEY } from './env';

const data = path.resolve(__dirname, '..', 'model', 'tests', 'data');
export const LIBRARY_V1 = JSON.parse(fs.readFileSync(path.join(data, 'library-v1.json'), 'utf8'));
export const LIBRARY_V2 = JSON.parse(fs.readFileSync(path.join(data, 'library-v2.json'), 'utf8'));

/** What the CSP guard writes to the console when the browser blocks something. */
const CSP_MARK = 'CSP violation:';

/** Runs in every page before its own scripts: reports each Content-Security-Policy violation. */
function reportCspViolations(mark: string) {
  document.addEventListener('securitypolicyviolation', (e) => {
    console.error(`${mark} ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
  });
}

async function guardContext(context: BrowserContext, violations: string[]) {
  await context.addInitScript(reportCspViolations, CSP_MARK);
  context.on('console', (m) => {
    // Our own report, and Chromium's "Refused to ... because it violates the following
    // Content Security Policy directive" in case the event never reached the page's script.
    if (m.text().startsWith(CSP_MARK) || m.text().includes('Content Security Policy')) {
      violations.push(`${m.text()} on ${m.page()?.url() ?? '?'}`);
    }
  });
}

/**
 * The `test` of every spec: each browser context a test opens through `browser.newContext` (the
 * way these specs open theirs; the built-in `page` fixture is not watched) reports
 * Content-Security-Policy violations, and a test that saw one fails. `csp.violations` lets a test that provokes one on
 * purpose check and clear it.
 */
export const test = base.extend<{ csp: { violations: string[] } }>({
  csp: [
    async ({ browser }, use) => {
      const violations: string[] = [];
      const newContext = browser.newContext.bind(browser);
      // Every spec opens its contexts itself (fresh browsers of one user): wrap the one door.
      browser.newContext = async (...args: Parameters<Browser['newContext']>) => {
        const context = await newContext(...args);
        await guardContext(context, violations);
        return context;
      };
      try {
        await use({ violations });
      } finally {
        browser.newContext = newContext;
      }
      expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});

export const CSRF = { 'x-dm-csrf': '1' };
export const PASSWORD = 'correct horse battery staple';

let counter = 0;
export function uniqueName(stem: string): string {
  counter += 1;
  return `${stem}${Date.now() % 100000}${counter}`;
}

export async function open(page: Page, path: string) {
  await page.goto(path);
  // A click before hydration is lost: wait until the wasm app has taken over.
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

export function watchConsole(page: Page, errors: string[]) {
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // The browser logs every failed request (offline, 4xx); those are asserted on the page.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      errors.push(`console: ${m.text()}`);
    }
  });
}

async function ok(response: Awaited<ReturnType<APIRequestContext['post']>>) {
  expect(response.ok(), `${response.url()}: ${response.status()} ${await response.text()}`).toBe(true);
  return response;
}

/** Registers a user in a context of its own (its cookie jar holds the session). */
export async function newUser(browser: Browser): Promise<{ username: string; api: BrowserContext }> {
  const username = uniqueName('user');
  const api = await browser.newContext();
  await ok(await api.request.post('/api/v1/auth/register', {
    headers: CSRF,
    data: { username, password: PASSWORD },
  }));
  return { username, api };
}

/** A fresh browser of the same user: nothing but the session cookie. */
export async function freshBrowser(browser: Browser, api: BrowserContext): Promise<BrowserContext> {
  const cookies = await api.cookies();
  const context = await browser.newContext();
  await context.addCookies(cookies);
  return context;
}

/** Adds a provider on the fake; `model` may carry the fake's directives (`fake-model?status=400`). */
export async function addProvider(api: BrowserContext, name = 'fake', model = 'fake-model') {
  await ok(await api.request.post('/api/v1/providers', {
    headers: CSRF,
    data: { name, kind: 'compatible', base_url: FAKE_BASE_URL, model, api_key: FAKE_KEY },
  }));
}

/** The chat request bodies the fake provider has received, oldest first. */
export async function fakeRequests(api: BrowserContext): Promise<{ model?: string; messages: unknown }[]> {
  return (await api.request.get(FAKE_BASE_URL.replace(/\/v1$/, '/fake/requests'))).json();
}

export interface Draft { id: string; number: number; parent_id: string | null }

function draftRecord(domainId: string, number: number, parent: Draft | null, model: unknown) {
  return {
    id: randomUUID(),
    domain_id: domainId,
    number,
    parent_id: parent ? parent.id : null,
    created_at: Date.now(),
    provenance: {
      source: 'import',
      provider: '',
      model: '',
      instruction: `pushed by another device (draft ${number})`,
      prompt_hash: '',
    },
    model,
  };
}

/** The sync client of an API context ("another device"): its client id and next mutation id. */
const devices = new WeakMap<BrowserContext, { clientId: string; next: number }>();

/** Pushes mutations as the API context's own device would, in order, and checks none was refused. */
export async function pushMutations(api: BrowserContext, mutations: unknown[]) {
  let device = devices.get(api);
  if (!device) {
    device = { clientId: randomUUID(), next: 1 };
    devices.set(api, device);
  }
  const numbered = mutations.map((mutation) => ({ id: device!.next++, mutation }));
  const response = await ok(await api.request.post('/api/v1/sync/push', {
    headers: CSRF,
    data: { client_id: device.clientId, mutations: numbered },
  }));
  const result = await response.json();
  expect(result.rejected ?? []).toEqual([]);
  return result;
}

/** Pushes a domain with drafts 1 (library v1) and 2 (library v2), as another device would. */
export async function pushLibrary(api: BrowserContext, name = 'library') {
  const now = Date.now();
  const domain = { id: randomUUID(), name, description: 'A lending library.', created_at: now, updated_at: now };
  const first = draftRecord(domain.id, 1, null, LIBRARY_V1);
  const second = draftRecord(domain.id, 2, first, LIBRARY_V2);
  await pushMutations(api, [
    { kind: 'create_domain', domain },
    { kind: 'create_draft', draft: first },
    { kind: 'create_draft', draft: second },
  ]);
  return { domain, drafts: [first, second] };
}

/** Pushes one more draft on top of `parent`, as another device would. */
export async function pushDraft(api: BrowserContext, domainId: string, parent: Draft, model: unknown) {
  const draft = draftRecord(domainId, parent.number + 1, parent, model);
  await pushMutations(api, [{ kind: 'create_draft', draft }]);
  return draft;
}

/** Holds every request matching `pattern` until the returned function is called. */
export async function holdRequests(page: Page, pattern: string): Promise<() => void> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  await page.route(pattern, async (route) => {
    await gate;
    await route.continue();
  });
  return release;
}

export async function shot(page: Page, name: string) {
  fs.mkdirSync('screenshots', { recursive: true });
  await page.screenshot({ path: `screenshots/${name}.png`, fullPage: true });
}
