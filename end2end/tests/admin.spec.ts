// Accounts in the browser: the administrator's page (deactivate, reactivate, delete an account,
// make an invite code, read the audit log) and a user's own account in Settings (change the
// password, delete the account). The first account of the test server is its administrator:
// this file is named to run first (Playwright runs files in name order, one worker), and says
// so when it does not.
import { test, expect } from '@playwright/test';
import { open, watchConsole, newUser, freshBrowser, PASSWORD, CSRF, shot } from '../helpers';

test('the administrator runs accounts; a user changes the password and deletes the account', async ({ browser }) => {
  const errors: string[] = [];
  const { api: adminApi } = await newUser(browser);
  const me = await (await adminApi.request.get('/api/v1/auth/me')).json();
  expect(me.is_admin, 'this spec must run first: the first account is the administrator').toBe(true);
  const { username: bobName, api: bobApi } = await newUser(browser);

  const adminContext = await freshBrowser(browser, adminApi);
  const page = await adminContext.newPage();
  watchConsole(page, errors);
  await open(page, '/');
  await page.getByRole('link', { name: 'Administration' }).click();
  await expect(page).toHaveURL(/\/admin$/);
  const bobRow = page.getByTestId('admin-users').locator('tr', { hasText: bobName });
  await expect(bobRow).toContainText('active');

  // Deactivated: Bob's session stops at once; reactivated: the button comes back.
  await bobRow.getByRole('button', { name: 'Deactivate' }).click();
  await expect(bobRow).toContainText('deactivated');
  expect((await bobApi.request.get('/api/v1/auth/me')).status()).toBe(401);
  await bobRow.getByRole('button', { name: 'Reactivate' }).click();
  await expect(bobRow.getByRole('button', { name: 'Deactivate' })).toBeVisible();

  // An invite code is shown once.
  await page.locator('input[name=invite-days]').fill('3');
  await page.getByRole('button', { name: 'Make invite code' }).click();
  await expect(page.getByTestId('new-invite')).toContainText('inv_');
  await expect(page.getByTestId('invites').locator('tbody tr')).toHaveCount(1);

  // Deleted, after the browser's confirmation.
  page.once('dialog', (dialog) => dialog.accept());
  await bobRow.getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.getByTestId('admin-users').locator('tr', { hasText: bobName })).toHaveCount(0);
  await page.getByRole('button', { name: 'Refresh' }).click();
  const audit = page.getByTestId('audit');
  for (const event of ['admin.user_deactivated', 'admin.user_reactivated', 'admin.invite_created', 'admin.user_deleted']) {
    await expect(audit).toContainText(event);
  }
  await shot(page, 'admin');

  // A user who is not an administrator has no such page.
  const { username: carolName, api: carolApi } = await newUser(browser);
  const carolContext = await freshBrowser(browser, carolApi);
  const carol = await carolContext.newPage();
  watchConsole(carol, errors);
  await open(carol, '/settings');
  await expect(carol.getByRole('link', { name: 'Administration' })).toHaveCount(0);

  // Carol is also signed in elsewhere (the page shares the API context's session).
  const phone = await browser.newContext();
  const signedIn = await phone.request.post('/api/v1/auth/login', {
    headers: CSRF,
    data: { username: carolName, password: PASSWORD },
  });
  expect(signedIn.status()).toBe(200);

  // A wrong current password says so; the right one changes it and signs out the other session.
  const newPassword = 'a brand new horse battery';
  const change = carol.getByTestId('change-password');
  await carol.locator('input[name=current-password]').fill('wrong horse battery');
  await carol.locator('input[name=new-password]').fill(newPassword);
  await change.getByRole('button', { name: 'Change password' }).click();
  await expect(change).toContainText('AUTH_WRONG_PASSWORD');
  await carol.locator('input[name=current-password]').fill(PASSWORD);
  await change.getByRole('button', { name: 'Change password' }).click();
  await expect(carol.getByTestId('password-changed')).toBeVisible();
  expect((await phone.request.get('/api/v1/auth/me')).status()).toBe(401);
  expect((await carolApi.request.get('/api/v1/auth/me')).status()).toBe(200);

  // Deleting the account signs out and leaves nothing to sign in to.
  await carol.locator('input[name=delete-password]').fill(newPassword);
  await carol.getByRole('button', { name: 'Delete my account' }).click();
  await expect(carol).toHaveURL(/\/register$/);
  const login = await carolApi.request.post('/api/v1/auth/login', {
    headers: CSRF,
    data: { username: carolName, password: newPassword },
  });
  expect(login.status()).toBe(401);
  expect(errors).toEqual([]);
});
