// The first load as a user on a slow network gets it: a fresh browser (empty cache, empty
// IndexedDB, only the session cookie) opens the domain list and a draft, unthrottled and under
// Chromium's network emulation (CDP `Network.emulateNetworkConditions`). For each run: when the
// page was hydrated (event handlers attached: interactive), when the content was visible (the
// domain in the list, the draft's dictionary), and every response with its bytes on the wire.
// Prints a table and writes target/bench/first-load.json. A benchmark: nothing is asserted.
import { test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { newUser, pushLibrary, freshBrowser } from '../helpers';

const PROFILES = [
  { name: 'unthrottled', latency: 0, down: -1, up: -1 },
  { name: '10 Mbit/s, 40 ms', latency: 40, down: 10e6 / 8, up: 5e6 / 8 },
  { name: '1.6 Mbit/s, 150 ms', latency: 150, down: 1.6e6 / 8, up: 750e3 / 8 },
];
const RUNS = Number(process.env.DM_BENCH_RUNS ?? 3);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

test('first load, cold, by network profile', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const pages = [
    { name: 'domain list', path: '/', ready: (p: import('@playwright/test').Page) => p.getByRole('link', { name: 'library' }) },
    {
      name: 'draft dictionary',
      path: `/domains/${domain.id}/drafts/2`,
      ready: (p: import('@playwright/test').Page) => p.getByTestId('dictionary').locator('[data-entity="audit_log"]'),
    },
  ];
  const results: unknown[] = [];
  const rows: string[] = [];
  for (const profile of PROFILES) {
    for (const target of pages) {
      const hydrated: number[] = [];
      const ready: number[] = [];
      let requests: { url: string; bytes: number; ms: number }[] = [];
      for (let run = 0; run < RUNS; run++) {
        const context = await freshBrowser(browser, api);
        const page = await context.newPage();
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
        if (profile.latency > 0) {
          await cdp.send('Network.emulateNetworkConditions', {
            offline: false,
            latency: profile.latency,
            downloadThroughput: profile.down,
            uploadThroughput: profile.up,
          });
        }
        const started = Date.now();
        const seen = new Map<string, { url: string; bytes: number; ms: number }>();
        cdp.on('Network.responseReceived', (e) => {
          seen.set(e.requestId, { url: new URL(e.response.url).pathname, bytes: 0, ms: 0 });
        });
        cdp.on('Network.loadingFinished', (e) => {
          const r = seen.get(e.requestId);
          if (r) {
            r.bytes = e.encodedDataLength;
            r.ms = Date.now() - started;
          }
        });
        await page.goto(target.path, { waitUntil: 'commit' });
        await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 180_000 });
        hydrated.push(Date.now() - started);
        await target.ready(page).waitFor({ timeout: 180_000 });
        ready.push(Date.now() - started);
        // What had arrived by the time the content was visible.
        requests = [...seen.values()].filter((r) => r.bytes > 0 && r.ms <= ready[ready.length - 1]);
        await context.close();
      }
      const bytes = requests.reduce((s, r) => s + r.bytes, 0);
      results.push({ profile: profile.name, page: target.name, runs: RUNS, hydrated_ms: hydrated, ready_ms: ready, bytes, requests });
      rows.push(`| ${profile.name} | ${target.name} | ${median(hydrated)} ms | ${median(ready)} ms | ${requests.length} | ${bytes} |`);
      console.log(`${profile.name} · ${target.name}: hydrated ${hydrated.join(', ')} ms; visible ${ready.join(', ')} ms; ${requests.length} requests, ${bytes} bytes`);
      for (const r of requests) console.log(`    ${r.bytes.toString().padStart(9)}  ${r.url}`);
    }
  }
  console.log(['| network | page | hydrated (median) | visible (median) | requests | bytes |', '|---|---|---:|---:|---:|---:|', ...rows].join('\n'));
  const out = path.resolve(__dirname, '..', '..', 'target', 'bench');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'first-load.json'), JSON.stringify({ date: new Date().toISOString(), results }, null, 2));
});
