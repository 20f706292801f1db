// The offline cold start (issue 15): a user who opened the app once online starts it with the
// server stopped (its process ended, not only the network). For each run, a new page of the
// same browser profile (its service worker, Cache Storage and IndexedDB kept) opens the domain
// list, or a draft; the time from navigation to hydrated and to the content visible. Also what
// the service worker keeps (its precache, as the browser fetched it: brotli where the server
// has it). Prints a table and writes target/bench/offline-start.json. A benchmark: nothing is
// asserted. The release server is started here on a port of its own, so it can be stopped.
import { test, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OwnServer, target } from '../own-server';

const PORT = Number(process.env.E2E_OFFLINE_PORT ?? 3350);
const RUNS = Number(process.env.DM_BENCH_RUNS ?? 5);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

test('offline cold start', async ({ browser }) => {
  const server = new OwnServer(PORT, 'server-release');
  await server.start();
  const { context, domain } = await server.userWithLibrary(browser, 'offline');
  const draftPath = `/domains/${domain.id}/drafts/2`;

  // Online once: the worker installs and keeps the bundles; both pages are kept.
  const first = await context.newPage();
  await first.goto('/');
  await first.getByRole('link', { name: 'library' }).waitFor();
  await first.evaluate(() => navigator.serviceWorker.ready);
  await first.reload();
  await first.goto(draftPath);
  await first.getByTestId('dictionary').locator('[data-entity="audit_log"]').waitFor();
  const precache = await first.evaluate(async () => {
    const out: { url: string; bytes: number }[] = [];
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const body = await (await cache.match(request))!.arrayBuffer();
        out.push({ url: `${name} ${new URL(request.url).pathname}`, bytes: body.byteLength });
      }
    }
    return out;
  });
  await first.close();

  await server.stop();

  const pages = [
    { name: 'domain list', path: '/', ready: (p: Page) => p.getByRole('link', { name: 'library' }) },
    { name: 'draft dictionary', path: draftPath, ready: (p: Page) => p.getByTestId('dictionary').locator('[data-entity="audit_log"]') },
  ];
  const rows: string[] = [];
  const results: unknown[] = [];
  for (const target of pages) {
    const hydrated: number[] = [];
    const visible: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const page = await context.newPage();
      const start = Date.now();
      await page.goto(target.path);
      await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached' });
      hydrated.push(Date.now() - start);
      await target.ready(page).waitFor();
      visible.push(Date.now() - start);
      await page.close();
    }
    results.push({ page: target.name, hydrated, visible });
    rows.push(`| ${target.name} | ${median(hydrated)} ms | ${median(visible)} ms | ${RUNS} |`);
  }
  // Compressed: what the worker downloads, the brotli variant the build made where there is one.
  const site = path.join(target, 'site');
  const onTheWire = (entry: { url: string; bytes: number }) => {
    const file = path.join(site, entry.url.split(' ')[1]);
    return fs.existsSync(`${file}.br`) ? fs.statSync(`${file}.br`).size : entry.bytes;
  };
  const total = precache.reduce((sum, e) => sum + e.bytes, 0);
  const compressed = precache.filter((e) => e.url.startsWith('dm-assets-')).reduce((sum, e) => sum + onTheWire(e), 0);
  console.log('\n| page (server stopped) | hydrated | visible | runs |\n|---|---:|---:|---:|');
  console.log(rows.join('\n'));
  console.log(`\nCache Storage after one online visit: ${precache.length} entries, ${total} bytes as stored; the worker's precache ${compressed} bytes brotli on the wire`);
  for (const e of precache) console.log(`  ${e.bytes}\t${onTheWire(e)}\t${e.url}`);
  const out = path.join(target, 'bench');
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'offline-start.json'), JSON.stringify({ results, precache }, null, 2));
  await context.close();
});
