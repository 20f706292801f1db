// The proposal under review lives in IndexedDB. A browser that still has one in local storage
// (where the previous version kept it) gets it moved over on first load, loses nothing, and can
// accept it; the accepted draft takes the next free number even when its parent is older.
import { expect } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test, open, watchConsole, newUser, freshBrowser, pushLibrary } from '../helpers';

const CHANGES = JSON.parse(fs.readFileSync(
  path.resolve(__dirname, '..', '..', 'model', 'tests', 'data', 'library-v2-changes.json'), 'utf8')).changes;

test('a proposal kept in local storage by the previous version moves to IndexedDB and can be accepted', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain, drafts } = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  // The previous version's shape: the whole parent draft (here draft 1), the changes, the
  // provenance. Seeded once, before the app loads.
  const legacy = {
    parent: drafts[0],
    changes: CHANGES,
    provenance: { source: 'llm', provider: 'fake', model: 'fake-model', instruction: 'add an audit log', prompt_hash: 'h' },
  };
  await context.addInitScript(([key, value]) => {
    if (!sessionStorage.getItem('seeded')) {
      localStorage.setItem(key, value);
      sessionStorage.setItem('seeded', '1');
    }
  }, [`dm-proposal-${domain.id}`, JSON.stringify(legacy)]);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);

  await open(page, `/domains/${domain.id}`);
  const proposal = page.getByTestId('proposal');
  await expect(proposal.getByRole('heading', { level: 2 })).toHaveText('Proposed changes to draft 1');
  await expect(proposal.getByTestId('op')).toHaveCount(6);
  // Moved, not copied: local storage is empty, and a reload reads it from IndexedDB.
  await expect.poll(() => page.evaluate(() => Object.keys(localStorage))).toEqual([]);
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(proposal.getByTestId('op')).toHaveCount(6);

  // Draft 2 exists already (it came from another device), so the accepted draft is number 3,
  // built on draft 1, and the button says so.
  await expect(proposal.getByTestId('accept')).toHaveText('Accept 6 of 6 as draft 3');
  await proposal.getByTestId('accept').click();
  await expect(page.getByTestId('generation-done')).toHaveText('Saved as draft 3.');
  await expect(page).toHaveURL(`/domains/${domain.id}/drafts/3`);
  await expect(page.getByTestId('draft-tabs').getByRole('link')).toHaveText(['Draft 1', 'Draft 2', 'Draft 3']);
  await expect(page.getByTestId('proposal')).toHaveCount(0);
  await page.getByRole('link', { name: 'Review' }).click();
  await expect(page).toHaveURL(`/domains/${domain.id}/review/1..3`);
  await expect(page.getByTestId('diff')).toContainText('entity audit_log added with 8 attributes');

  // Accepted means settled: the proposal does not come back on reload.
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(page.getByTestId('diff')).toContainText('entity audit_log added with 8 attributes');
  await expect(page.getByTestId('proposal')).toHaveCount(0);
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');

  expect(errors).toEqual([]);
  await context.close();
  await api.close();
});
