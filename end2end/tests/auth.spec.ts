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
