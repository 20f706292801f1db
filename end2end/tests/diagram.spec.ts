// The ER diagram of a draft and of a review: drawn from the core's layout, searched, panned and
// zoomed; a dragged table keeps its place for the domain (after a reload, and on another
// device); a review highlights what changed and links the diagram and the change list both
// ways; SVG and PNG exports of what is on screen.
import { expect, Page, Locator } from '@playwright/test';
import { test, open, watchConsole, newUser, freshBrowser, pushLibrary, shot } from '../helpers';

/** The translation of a box: its `transform="translate(x y)"`. */
async function placeOf(box: Locator): Promise<[number, number]> {
  const t = (await box.getAttribute('transform')) ?? '';
  const m = /translate\(([-\d.e]+) ([-\d.e]+)\)/.exec(t);
  expect(m, t).not.toBeNull();
  return [Number(m![1]), Number(m![2])];
}

async function dragBy(page: Page, box: Locator, dx: number, dy: number) {
  const b = (await box.boundingBox())!;
  const x = b.x + 20, y = b.y + 10;
  await page.mouse.move(x, y);
  await page.mouse.down();
  for (let i = 1; i <= 5; i++) await page.mouse.move(x + (dx * i) / 5, y + (dy * i) / 5);
  await page.mouse.up();
}

test('a draft as a diagram: layout, search, drag kept and synced, exports', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const base = `/domains/${domain.id}`;
  const errors: string[] = [];
  const first = await freshBrowser(browser, api);
  const page = await first.newPage();
  watchConsole(page, errors);

  await open(page, `${base}/drafts/1`);
  await page.getByTestId('show-diagram').click();
  await expect(page).toHaveURL(`${base}/drafts/1?view=diagram`);
  const diagram = page.getByTestId('diagram');
  const boxes = diagram.locator('g.dm-entity');
  await expect(boxes).toHaveCount(4);
  await expect(diagram.locator('path.dm-edge')).toHaveCount(3);
  // Each box lists its attributes with type and key marks.
  const book = diagram.locator('g.dm-entity[data-entity="book"]');
  await expect(book.locator('text.dm-attr')).toHaveText(['id', 'isbn', 'title', 'author_id', 'edition', 'published_on']);
  await expect(book.locator('text.dm-marks').first()).toHaveText('PK');
  await expect(diagram.getByTestId('diagram-minimap').locator('rect.dm-mini-box')).toHaveCount(4);
  await shot(page, 'diagram-draft');

  // Search focuses a table.
  await diagram.getByTestId('diagram-search').fill('loan');
  await diagram.getByTestId('diagram-search').press('Enter');
  await expect(diagram.locator('g.dm-entity[data-entity="loan"]')).toHaveClass(/dm-focused/);
  await diagram.getByTestId('diagram-search').fill('nothing-like-it');
  await diagram.getByTestId('diagram-search').press('Enter');
  await expect(diagram.getByTestId('diagram-not-found')).toBeVisible();

  // Zoom buttons change the scale; fit brings it back.
  const zoom = diagram.getByTestId('diagram-zoom');
  const before = await zoom.textContent();
  await diagram.getByRole('button', { name: 'Zoom in' }).click();
  await expect(zoom).not.toHaveText(before!);
  await diagram.getByTestId('diagram-fit').click();
  await expect(zoom).toHaveText(before!);

  // Drag a table: its place is kept, after a reload too.
  const [x0, y0] = await placeOf(book);
  await dragBy(page, book, 160, 90);
  await expect.poll(async () => (await placeOf(book))[0]).toBeGreaterThan(x0 + 50);
  const moved = await placeOf(book);
  expect(moved[1]).toBeGreaterThan(y0 + 20);
  await expect(page.getByTestId('sync-status')).toHaveText('all synced');
  await page.reload();
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
  await expect(boxes).toHaveCount(4);
  expect(await placeOf(book)).toEqual(moved);
  // Draft 2 keeps the tables of draft 1 where they were.
  await open(page, `${base}/drafts/2?view=diagram`);
  await expect(boxes).toHaveCount(5);
  expect(await placeOf(book)).toEqual(moved);

  // Another device of the same user gets the position with the domain.
  const second = await freshBrowser(browser, api);
  const other = await second.newPage();
  watchConsole(other, errors);
  await open(other, `${base}/drafts/1?view=diagram`);
  await expect(other.getByTestId('diagram').locator('g.dm-entity')).toHaveCount(4);
  expect(await placeOf(other.getByTestId('diagram').locator('g.dm-entity[data-entity="book"]'))).toEqual(moved);
  await second.close();

  // Exports: an SVG without foreignObject, and a PNG.
  await diagram.getByTestId('diagram-svg').click();
  const svgLink = diagram.getByTestId('download');
  await expect(svgLink).toBeVisible();
  const download = page.waitForEvent('download');
  await svgLink.click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('draft-2.svg');
  const svg = (await import('node:fs')).readFileSync((await file.path())!, 'utf8');
  expect(svg).toContain('<svg');
  expect(svg).toContain('audit_log');
  expect(svg).not.toContain('foreignObject');
  await diagram.getByTestId('diagram-png').click();
  await expect(diagram.getByTestId('download-png')).toHaveAttribute('href', /^data:image\/png;base64,/);

  // Arrange again lays everything out anew.
  await diagram.getByTestId('diagram-arrange').click();
  await expect.poll(async () => JSON.stringify(await placeOf(book))).not.toBe(JSON.stringify(moved));
  expect(errors).toEqual([]);
  await first.close();
});

test('a review as a diagram: changes highlighted, list and diagram linked', async ({ browser }) => {
  const { api } = await newUser(browser);
  const { domain } = await pushLibrary(api);
  const context = await freshBrowser(browser, api);
  const page = await context.newPage();
  const errors: string[] = [];
  watchConsole(page, errors);
  await open(page, `/domains/${domain.id}/review/1..2`);
  const diagram = page.getByTestId('diagram');
  await expect(diagram.locator('g.dm-entity')).toHaveCount(5);
  await expect(diagram.locator('g.dm-entity[data-entity="audit_log"]')).toHaveClass(/dm-added/);
  await expect(diagram.locator('g.dm-entity[data-entity="member"]')).toHaveClass(/dm-changed/);
  await expect(diagram.locator('g.dm-entity[data-entity="author"]')).not.toHaveClass(/dm-added|dm-removed|dm-changed/);
  await expect(diagram.locator('g.dm-entity[data-entity="member"] g.dm-row.dm-added')).toHaveCount(1);
  // Picking a change focuses its table...
  const change = page.getByTestId('diff').locator('li.change', { hasText: 'member.email' });
  await change.click();
  await expect(diagram.locator('g.dm-entity[data-entity="member"]')).toHaveClass(/dm-focused/);
  await expect(change).toHaveClass(/picked/);
  // ...and picking a table (found with the search, which brings it into view) marks its
  // changes.
  await diagram.getByTestId('diagram-search').fill('audit');
  await diagram.getByTestId('diagram-search').press('Enter');
  await diagram.locator('g.dm-entity[data-entity="audit_log"] rect.dm-head').click();
  await expect(page.getByTestId('diff').locator('li.change.picked')).toContainText(['audit_log']);
  await expect(change).not.toHaveClass(/picked/);
  await shot(page, 'diagram-review');
  expect(errors).toEqual([]);
  await context.close();
});
