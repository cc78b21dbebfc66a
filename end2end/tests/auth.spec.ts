import { test, expect, signUp, signIn, expectHome, fillAuthForm, uniqueId, register, PASSWORD } from './support';

test('sign up, sign out and sign in again', async ({ page, server }) => {
  const id = uniqueId('ann');
  await signUp(page, server.url, id);
  await expectHome(page, server.url, id);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(`${server.url}/login`);
  // Signed out, the home page sends you to sign in.
  await page.goto(`${server.url}/`);
  await expect(page).toHaveURL(`${server.url}/login`);

  await signIn(page, server.url, id);
  await expectHome(page, server.url, id);
});

test('a wrong password and an unknown user get the same message', async ({ page, server, request }) => {
  const id = uniqueId('ben');
  await register(request, server.url, id);

  await signIn(page, server.url, id, 'not the password');
  await expect(page.getByRole('alert')).toHaveText('Wrong user ID or password.');
  await expect(page).toHaveURL(/\/login\?/);
  // The ID stays in the field for a second try; the password does not.
  await expect(page.getByLabel('User ID', { exact: true })).toHaveValue(id);
  await expect(page.getByLabel('Password', { exact: true })).toHaveValue('');

  await signIn(page, server.url, uniqueId('nobody'), PASSWORD);
  await expect(page.getByRole('alert')).toHaveText('Wrong user ID or password.');
});

test('a taken user ID is refused', async ({ page, server, request }) => {
  const id = uniqueId('cat');
  await register(request, server.url, id);
  await signUp(page, server.url, id);
  await expect(page.getByRole('alert')).toHaveText('That user ID is taken. Please choose another.');
  await expect(page).toHaveURL(/\/register\?/);
});

test('invalid IDs and short passwords are explained', async ({ page, server }) => {
  const cases: Array<[string, string, RegExp]> = [
    ['has space', PASSWORD, /only letters .* digits, hyphens \(-\) and underscores \(_\)/],
    ['x'.repeat(33), PASSWORD, /at most 32 characters/],
    ['dot.ted', PASSWORD, /only letters/],
    [uniqueId('dan'), 'short', /at least 8 characters/],
  ];
  for (const [id, password, message] of cases) {
    await page.goto(`${server.url}/register`);
    await fillAuthForm(page, id, password);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByRole('alert')).toHaveText(message);
  }
});

test('changing the password signs out other browsers; deleting the account removes it', async ({ browser, server, request }) => {
  const id = uniqueId('dee');
  await register(request, server.url, id);
  const here = await browser.newContext();
  const elsewhere = await browser.newContext();
  try {
    // Signed in elsewhere first, so that this tab holds the calls.
    const other = await elsewhere.newPage();
    await signIn(other, server.url, id);
    await expectHome(other, server.url, id);
    const page = await here.newPage();
    await signIn(page, server.url, id);
    await expectHome(page, server.url, id);

    await page.getByRole('link', { name: 'Account' }).click();
    await expect(page.getByRole('heading', { name: 'Account', level: 1 })).toBeVisible();
    await page.getByLabel('Current password').fill('not my password');
    await page.getByLabel('New password').fill('a brand new password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('alert')).toHaveText('That is not your current password.');
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password').fill('a brand new password');
    await page.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByRole('status')).toContainText('Password changed');

    // The other browser is signed out; this one is not.
    await other.reload();
    await expect(other).toHaveURL(`${server.url}/login`);
    await page.goto(`${server.url}/`);
    await expectHome(page, server.url, id);

    await page.goto(`${server.url}/account`);
    await page.getByLabel('Password', { exact: true }).fill('a brand new password');
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await expect(page).toHaveURL(/\/login\?notice=deleted/);
    await expect(page.getByRole('status')).toHaveText('Your account and everything in it were deleted.');
    await signIn(page, server.url, id, 'a brand new password');
    await expect(page.getByRole('alert')).toHaveText('Wrong user ID or password.');
  } finally {
    await here.close();
    await elsewhere.close();
  }
});
