// What is open is in the URL: a draft, a review pair, the export and import panels. Deep links
// open cold in a fresh browser (only the session cookie), and reload and back/forward keep the
// view; a bad number or pair says so instead of failing.
import { expect, Page } from '@playwright/test';
import { test, open, watchConsole, newUser, freshBrowser, pushLibrary, shot } from '../helpers';

async function expectDraft(page: Page, number: number) {
  await expect(page.getByTestId('draft-view')).toHaveAttribute('data-number', String(number));
  await expect(page.getByTestId('draft-tabs').locator('.tab-active')).toHaveText(`Draft ${number}`);
}

test('deep links to a draft and a review pair open cold; reload and back/forward keep the view', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const base = `/domains/${domain.id}`;
  const errors: string[] = [];

  // A draft URL, opened cold: the right draft, not the latest.
  const first = await freshBrowser(browser, api);
  const page = await first.newPage();
  watchConsole(page, errors);
  await open(page, `${base}/drafts/1`);
  await expectDraft(page, 1);
  const dictionary = page.getByTestId('dictionary');
  await expect(dictionary.locator('[data-entity="book"]')).toBeVisible();
  await expect(dictionary.locator('[data-entity="audit_log"]')).toHaveCount(0);
  await shot(page, 'draft-url');

  // Selecting another draft pushes its URL; back and forward walk the history.
  await page.getByTestId('draft-tabs').getByRole('link', { name: 'Draft 2' }).click();
  await expect(page).toHaveURL(`${base}/drafts/2`);
  await expectDraft(page, 2);
  await expect(dictionary.locator('[data-entity="audit_log"]')).toBeVisible();
  await page.goBack();
  await expect(page).toHaveURL(`${base}/drafts/1`);
  await expectDraft(page, 1);
  await page.goForward();
  await expect(page).toHaveURL(`${base}/drafts/2`);
  await expectDraft(page, 2);
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expectDraft(page, 2);

  // The review of the latest draft against its parent, then the pair swapped with the selects.
  await page.getByRole('link', { name: 'Review' }).click();
  await expect(page).toHaveURL(`${base}/review/1..2`);
  const diff = page.getByTestId('diff');
  await expect(diff).toContainText('entity audit_log added with 8 attributes');
  await page.locator('select[name=compare-from]').selectOption({ label: 'Draft 2' });
  await expect(page).toHaveURL(`${base}/review/2..2`);
  await page.locator('select[name=compare-to]').selectOption({ label: 'Draft 1' });
  await expect(page).toHaveURL(`${base}/review/2..1`);
  await expect(diff).toContainText('entity audit_log removed with its 8 attributes');
  await page.goBack();
  await expect(page).toHaveURL(`${base}/review/2..2`);
  await expect(diff).toContainText('The two drafts describe the same model.');
  await page.goBack();
  await expect(page).toHaveURL(`${base}/review/1..2`);
  await expect(diff).toContainText('entity audit_log added with 8 attributes');
  await page.goBack();
  await expect(page).toHaveURL(`${base}/drafts/2`);
  await expectDraft(page, 2);

  // A review URL, opened cold in another fresh browser, and reloaded.
  const second = await freshBrowser(browser, api);
  const other = await second.newPage();
  watchConsole(other, errors);
  await open(other, `${base}/review/2..1`);
  await expect(other.getByTestId('diff')).toContainText('entity audit_log removed with its 8 attributes');
  await expect(other.locator('select[name=compare-from]')).toHaveValue('2');
  await expect(other.locator('select[name=compare-to]')).toHaveValue('1');
  await other.reload();
  await expect(other.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(other.getByTestId('diff')).toContainText('entity audit_log removed with its 8 attributes');
  await shot(other, 'review-url');

  expect(errors).toEqual([]);
  await first.close();
  await second.close();
  await api.close();
});

test('the export and import panels have URLs of their own', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const base = `/domains/${domain.id}`;
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);

  // The export panel of draft 1, opened cold.
  await open(page, `${base}/drafts/1/export`);
  const exports = page.getByTestId('exports');
  await expect(exports.getByTestId('export-preview')).toContainText('# ');
  await exports.locator('select[name=export-format]').selectOption({ label: 'SQL DDL · SQLite' });
  await expect(exports.getByTestId('export-preview')).toContainText(/create table/i);
  await expect(exports.getByTestId('export-preview')).not.toContainText('audit_log');
  await expect(exports.getByTestId('export-warnings')).toHaveCount(0);
  // What MySQL cannot keep is listed with its table and column, as `dm convert` prints it.
  await exports.locator('select[name=export-format]').selectOption({ label: 'SQL DDL · MySQL / MariaDB' });
  const warnings = exports.getByTestId('export-warnings');
  await expect(warnings.locator('summary')).toHaveText('3 export warnings: 3 lost, 0 changed');
  await warnings.locator('summary').click();
  await expect(warnings.locator('li')).toHaveCount(3);
  await expect(warnings.locator('li').first()).toContainText('lost member.joined_at: timestamptz is timestamp in MySQL');
  await shot(page, 'export-panel');
  // Closing it goes back to the draft; the Export link opens it again.
  await page.getByRole('link', { name: 'Close export' }).click();
  await expect(page).toHaveURL(`${base}/drafts/1`);
  await expect(page.getByTestId('exports')).toHaveCount(0);
  await page.getByRole('link', { name: 'Export' }).click();
  await expect(page).toHaveURL(`${base}/drafts/1/export`);
  await page.goBack();
  await expect(page).toHaveURL(`${base}/drafts/1`);
  await expect(page.getByTestId('exports')).toHaveCount(0);

  // The import panel, from its link, then reloaded.
  await page.getByRole('link', { name: 'Import' }).click();
  await expect(page).toHaveURL(`${base}/import`);
  await expect(page.getByTestId('import').locator('textarea[name=import-text]')).toBeVisible();
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(page.getByTestId('import').locator('textarea[name=import-text]')).toBeVisible();
  await shot(page, 'import-panel');

  expect(errors).toEqual([]);
  await context.close();
  await api.close();
});

test('a bad draft number or pair says what is wrong', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const base = `/domains/${domain.id}`;
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);

  const cases: [string, string][] = [
    [`${base}/drafts/9`, 'this domain has no draft 9'],
    [`${base}/drafts/two`, '`two` is not a draft number'],
    [`${base}/drafts/9/export`, 'this domain has no draft 9'],
    [`${base}/review/1..9`, 'this domain has no draft 9'],
    [`${base}/review/1-2`, '`1-2` is not a pair of drafts'],
  ];
  for (const [url, message] of cases) {
    await open(page, url);
    await expect(page.getByTestId('view-error')).toContainText(message);
    // The domain itself and its drafts are still there to pick from.
    await expect(page.getByTestId('domain-name')).toHaveText('library');
    await expect(page.getByTestId('draft-tabs').getByRole('link')).toHaveText(['Draft 1', 'Draft 2']);
    if (url.endsWith('1..9')) await shot(page, 'bad-pair');
  }
  await open(page, '/domains/not-a-uuid');
  await expect(page.getByTestId('domain-not-found')).toBeVisible();

  expect(errors).toEqual([]);
  await context.close();
  await api.close();
});
