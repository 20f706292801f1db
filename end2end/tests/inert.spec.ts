// What a model carries is text, wherever it shows: a domain name, descriptions, tags and a
// narrative holding HTML, script and `javascript:` links render inert (no dialog, no script run,
// no followable link), and the narrative's Markdown renders as headings, lists and safe links.
import { expect } from '@playwright/test';
import { test, open, watchConsole, newUser, freshBrowser, pushMutations, LIBRARY_V1, shot } from '../helpers';
import { randomUUID } from 'node:crypto';

const PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';

test('names, descriptions and the narrative render inert; the narrative is Markdown', async ({ browser }) => {
  const { api } = await newUser(browser);
  const now = Date.now();
  const domain = { id: randomUUID(), name: `evil ${PAYLOAD}`, description: `[x](javascript:window.__pwned=3) ${PAYLOAD}`, created_at: now, updated_at: now };
  const model = structuredClone(LIBRARY_V1);
  model.narrative = [
    '# Library',
    '',
    'Books are *catalogued* once; see [the guide](https://example.org/guide).',
    '',
    '- authors',
    '- loans',
    '',
    `Raw: ${PAYLOAD} and [click me](javascript:window.__pwned=4) and [rel](/settings).`,
  ].join('\n');
  model.entities[0].description = PAYLOAD;
  model.entities[0].attributes[0].description = '[y](javascript:window.__pwned=5)';
  model.entities[0].tags = [PAYLOAD];
  // A table whose name itself is markup (the default naming rule accepts any name).
  model.entities.push({ name: '<svg onload="window.__pwned=6">x', description: '', attributes: [{ name: '<b>id</b>', type: 'uuid', nullable: false }], primary_key: ['<b>id</b>'] });
  const draft = {
    id: randomUUID(), domain_id: domain.id, number: 1, parent_id: null, model,
    provenance: { source: 'import', provider: '', model: '', instruction: 'pushed by another device', prompt_hash: '' },
    created_at: now,
  };
  await pushMutations(api, [
    { kind: 'create_domain', domain },
    { kind: 'create_draft', draft },
  ]);

  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  const dialogs: string[] = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
  await open(page, `/domains/${domain.id}`);
  const narrative = page.getByTestId('narrative');
  await expect(narrative.locator('h4')).toHaveText('Library');
  await expect(narrative.locator('li')).toHaveText(['authors', 'loans']);
  await expect(narrative.locator('em')).toHaveText('catalogued');
  // The one safe link keeps its target and opens apart; the others are text.
  await expect(narrative.locator('a')).toHaveCount(1);
  await expect(narrative.locator('a')).toHaveAttribute('href', 'https://example.org/guide');
  await expect(narrative.locator('a')).toHaveAttribute('rel', 'noopener noreferrer nofollow');
  await expect(narrative.locator('.inert-link')).toHaveText(['click me', 'rel']);
  await expect(narrative).toContainText('<script>window.__pwned=2</script>');
  await expect(page.getByTestId('domain-name')).toContainText('<img src=x');
  await expect(page.getByTestId('dictionary').locator('[data-entity="author"]')).toContainText('onerror=');
  // Nothing ran, nothing was added as markup.
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(await page.locator('main img, main script').count()).toBe(0);
  expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
  expect(dialogs).toEqual([]);
  await shot(page, 'inert-narrative');
  // The diagram draws the markup as text, and its SVG export escapes it.
  await open(page, `/domains/${domain.id}/drafts/1?view=diagram`);
  const evil = page.getByTestId('diagram').locator('g.dm-entity').filter({ hasText: '<svg onload' });
  await page.getByTestId('diagram-search').fill('<svg');
  await page.getByTestId('diagram-search').press('Enter');
  await expect(evil).toHaveCount(1);
  await expect(evil.locator('text.dm-attr')).toHaveText('<b>id</b>');
  expect(await page.locator('main svg svg, main b').count()).toBe(0);
  await page.getByTestId('diagram-svg').click();
  const download = page.waitForEvent('download');
  await page.getByTestId('diagram').getByTestId('download').click();
  const svg = (await import('node:fs')).readFileSync((await (await download).path())!, 'utf8');
  expect(svg).toContain('&lt;svg onload=');
  expect(svg).not.toContain('<svg onload');
  expect(svg).not.toContain('<b>');
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  // The home page lists the domain's name as text too.
  await open(page, '/');
  await expect(page.getByTestId('domain-list')).toContainText('evil <img');
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(errors).toEqual([]);
  await context.close();
});
