// Sync that converges: two browsers of one user edit offline (the same description, different
// domains' names, a draft deleted on one), come back online and end up alike, with the
// overwritten description shown and restorable; a 1,000-entity draft made offline syncs in
// parts; a domain moved to the trash comes back with undo.
import { expect, Page } from '@playwright/test';
import { test, open, watchConsole, newUser, freshBrowser, pushLibrary, pushMutations, shot } from '../helpers';
import { randomUUID } from 'node:crypto';

async function synced(page: Page) {
  await page.getByTestId('sync-status').click();
  await expect(page.getByTestId('sync-status')).toHaveText('all synced', { timeout: 30_000 });
}

function domainRecord(name: string) {
  const now = Date.now();
  return { id: randomUUID(), name, description: `${name} things`, created_at: now, updated_at: now };
}

/** A valid model of `n` entities, each with a key, ten described attributes and a link to
 * the one before: about 1.4 KB of JSON per entity, 1.4 MB in all. */
function bigModel(n: number) {
  const name = (i: number) => `entity_${String(i).padStart(4, '0')}`;
  const entities = Array.from({ length: n }, (_, i) => ({
    name: name(i),
    description: `Entity ${i} of a large model.`,
    attributes: [
      { name: 'id', type: 'integer', nullable: false, description: 'Key.' },
      { name: 'label', type: 'string(200)', nullable: false, description: 'What it is called.' },
      { name: 'amount', type: 'decimal(12,2)', nullable: true, description: 'How much.' },
      { name: 'created_on', type: 'date', nullable: false, description: 'When it was made.' },
      { name: 'note', type: 'text', nullable: true, description: 'Free text.' },
      ...Array.from({ length: 5 }, (_, k) => ({
        name: `detail_${k}`, type: 'string(120)', nullable: true,
        description: `Detail ${k} of entity ${i}: what it records, where it comes from and who keeps it current.`,
      })),
      ...(i > 0 ? [{ name: 'previous_id', type: 'integer', nullable: true, description: 'The one before.' }] : []),
    ],
    primary_key: ['id'],
  }));
  const relationships = Array.from({ length: n - 1 }, (_, k) => ({
    name: `${name(k + 1)}_previous`, from_entity: name(k + 1), from_attributes: ['previous_id'],
    to_entity: name(k), to_attributes: ['id'], cardinality: 'N:1', on_delete: 'restrict',
  }));
  return { format_version: 1, summary: `${n} entities`, narrative: '', entities, relationships };
}

test('two browsers edit offline and converge, keeping the overwritten value', async ({ browser }) => {
  test.setTimeout(180_000);
  const { api } = await newUser(browser);
  const library = await pushLibrary(api);
  const [east, west] = [domainRecord('east'), domainRecord('west')];
  await pushMutations(api, [{ kind: 'create_domain', domain: east }, { kind: 'create_domain', domain: west }]);

  const contexts = [await freshBrowser(browser, api), await freshBrowser(browser, api)];
  const [a, b] = await Promise.all(contexts.map((c) => c.newPage()));
  const errors: string[] = [];
  watchConsole(a, errors);
  watchConsole(b, errors);
  for (const page of [a, b]) {
    await open(page, `/domains/${library.domain.id}/drafts/2`);
    await expect(page.getByTestId('draft-view')).toBeVisible();
    await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  }

  // Both offline.
  await Promise.all(contexts.map((c) => c.setOffline(true)));
  const describe = async (page: Page, text: string) => {
    await page.getByTestId('edit-domain').click();
    await page.locator('textarea[name=edit-domain-description]').fill(text);
    await page.getByTestId('domain-edit').getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('domain-description')).toHaveText(text);
  };
  await describe(a, 'Described on A.');
  await describe(b, 'Described on B.');
  // B deletes draft 2.
  await b.getByTestId('delete-draft').click();
  await b.getByTestId('delete-draft-yes').click();
  await expect(b.getByTestId('draft-tabs').getByRole('link')).toHaveCount(1);
  // Each renames another domain, reached by the app's own links (offline, no page loads).
  const rename = async (page: Page, from: string, name: string) => {
    await page.locator('.crumbs a').click();
    await page.getByTestId('domain-list').getByRole('link', { name: from, exact: true }).click();
    await page.getByTestId('edit-domain').click();
    await page.locator('input[name=edit-domain-name]').fill(name);
    await page.getByTestId('domain-edit').getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('domain-name')).toHaveText(name);
  };
  await rename(a, 'east', 'east renamed on A');
  await rename(b, 'west', 'west renamed on B');
  await expect(a.getByTestId('sync-status')).toContainText('not synced');
  await expect(b.getByTestId('sync-status')).toContainText('not synced');
  // A comes back first and syncs, then B: B's description is the later one in the server's
  // order, whatever the devices' clocks say.
  await contexts[0].setOffline(false);
  await synced(a);
  await contexts[1].setOffline(false);
  await synced(b);
  await synced(a);

  for (const page of [a, b]) {
    await page.goto(`/domains/${library.domain.id}`);
    await expect(page.getByTestId('domain-description')).toHaveText('Described on B.');
    await expect(page.getByTestId('draft-tabs').getByRole('link')).toHaveCount(1);
    const overwritten = page.getByTestId('overwritten-value');
    await expect(overwritten).toHaveCount(1);
    await expect(overwritten).toContainText('“Described on A.”');
  }
  await shot(a, 'sync-overwritten');

  // A restores its description; B follows.
  await a.getByTestId('restore-overwritten').click();
  await expect(a.getByTestId('domain-description')).toHaveText('Described on A.');
  await expect(a.getByTestId('overwritten')).toHaveCount(0);
  await synced(a);
  await synced(b);
  await b.reload();
  await expect(b.getByTestId('domain-description')).toHaveText('Described on A.');
  await expect(b.getByTestId('overwritten')).toHaveCount(0);

  // Renames of different domains both survived, on both browsers.
  for (const page of [a, b]) {
    await page.goto('/');
    const list = page.getByTestId('domain-list');
    await expect(list).toContainText('east renamed on A');
    await expect(list).toContainText('west renamed on B');
  }
  expect(errors).toEqual([]);
  await Promise.all(contexts.map((c) => c.close()));
  await api.close();
});

test('a 1,000-entity draft made offline syncs, and a deleted domain comes back', async ({ browser }) => {
  test.setTimeout(240_000);
  const { api } = await newUser(browser);
  const library = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  await open(page, `/domains/${library.domain.id}/import`);
  // The first round has brought the domain: the import panel shows.
  await expect(page.getByTestId('import')).toBeVisible();
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');

  await context.setOffline(true);
  const panel = page.getByTestId('import');
  await panel.locator('select[name=import-format]').selectOption('json');
  await panel.locator('textarea[name=import-text]').fill(JSON.stringify(bigModel(1000)));
  await panel.getByRole('button', { name: 'Read' }).click();
  await expect(panel.getByTestId('import-result')).toContainText('1000 entities', { timeout: 60_000 });
  await panel.getByRole('button', { name: 'Save as the next draft' }).click();
  await expect(page.getByTestId('draft-view')).toHaveAttribute('data-number', '3', { timeout: 60_000 });
  await expect(page.getByTestId('sync-status')).toContainText('1 not synced');

  // Back online: the draft goes in parts, several pushes, each under the body limit.
  const pushes: number[] = [];
  let parts = 0;
  page.on('request', (r) => {
    if (!r.url().endsWith('/api/v1/sync/push')) return;
    pushes.push(r.postDataBuffer()?.length ?? 0);
    parts += (r.postData() ?? '').split('"part":').length - 1;
  });
  await context.setOffline(false);
  await synced(page);
  expect(pushes.reduce((x, y) => x + y, 0)).toBeGreaterThan(1024 * 1024);
  expect(pushes.length).toBeGreaterThan(1);
  expect(parts).toBeGreaterThan(4);
  expect(Math.max(...pushes)).toBeLessThan(2 * 1024 * 1024);

  // The server has it whole: another device pulls exactly this model.
  const pulled = await (await api.request.get(`/api/v1/sync/pull?client_id=${randomUUID()}&since=0`)).json();
  const big = pulled.drafts.find((d: { number: number }) => d.number === 3);
  expect(big.model.entities).toHaveLength(1000);
  expect(big.model.relationships).toHaveLength(999);

  // The domain goes to the trash, and the undo brings it back.
  await page.goto(`/domains/${library.domain.id}`);
  await page.getByTestId('delete-domain').click();
  await page.getByTestId('delete-domain-yes').click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('undo-delete')).toContainText('“library” moved to the trash.');
  await expect(page.getByTestId('domain-list')).toHaveCount(0);
  await expect(page.getByTestId('trash')).toContainText('Trash (1)');
  await shot(page, 'sync-trash');
  await page.getByTestId('undo-delete-button').click();
  await expect(page.getByTestId('domain-list')).toContainText('library');
  await expect(page.getByTestId('trash')).toHaveCount(0);
  await synced(page);
  const after = await (await api.request.get(`/api/v1/sync/pull?client_id=${randomUUID()}&since=0`)).json();
  expect(after.domains.find((d: { id: string }) => d.id === library.domain.id).deleted_at).toBeUndefined();
  expect(errors).toEqual([]);
  await context.close();
  await api.close();
});
