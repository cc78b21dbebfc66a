import { rmSync } from 'node:fs';
import { test, expect, signUp, signIn, expectHome, uniqueId, register, Server, tempDir } from './support';

test('accounts, contacts and sessions survive a server restart', async ({ page, request }) => {
  const dir = tempDir();
  let server = await Server.start(dir);
  try {
    const me = uniqueId('hal');
    const friend = uniqueId('ivy');
    await register(request, server.url, friend);
    await signUp(page, server.url, me);
    await expectHome(page, server.url, me);
    await page.getByLabel('Add a contact by user ID').fill(friend);
    await page.getByRole('button', { name: 'Add contact' }).click();
    await expect(page.getByRole('list', { name: 'Your contacts' })).toContainText(friend);

    await server.stop();
    server = await Server.start(dir);

    // Cookies are per host, not per port: the same session reaches the new process.
    await page.goto(`${server.url}/`);
    await expectHome(page, server.url, me);
    await expect(page.getByRole('list', { name: 'Your contacts' })).toContainText(friend);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, server.url, me);
    await expectHome(page, server.url, me);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
