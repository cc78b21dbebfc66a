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

/** A free loopback port, so that a restarted server comes back where the pages expect it. */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

test('open pages come back by themselves after a restart, and calls ring again', async ({ browser }) => {
  const dir = tempDir();
  const env = { LEPTOS_SITE_ADDR: `127.0.0.1:${await freePort()}` };
  let server = await Server.start(dir, env);
  const contexts = [await browser.newContext(), await browser.newContext()];
  try {
    const [me, friend] = [uniqueId('jo'), uniqueId('kim')];
    const [mine, theirs] = await Promise.all(contexts.map((c) => c.newPage()));
    for (const [page, id, other] of [[mine, me, friend], [theirs, friend, me]] as const) {
      await signUp(page, server.url, id);
      await expectHome(page, server.url, id);
      void other;
    }
    // Each adds the other: the second addition accepts the first.
    for (const [page, other] of [[mine, friend], [theirs, me]] as const) {
      await page.getByLabel('Add a contact by user ID').fill(other);
      await page.getByRole('button', { name: 'Add contact' }).click();
    }
    for (const [page, other] of [[mine, friend], [theirs, me]] as const) {
      await expect(page.getByRole('listitem').filter({ hasText: other })).toContainText('Online');
    }

    await server.stop();
    server = await Server.start(dir, env);

    // Neither page is reloaded: each logs in again by itself (within a few seconds), so a call
    // placed from one rings on the other.
    await expect(async () => {
      await theirs.getByRole('button', { name: `Audio call ${me}` }).click();
      await expect(mine.getByRole('alertdialog', { name: friend })).toBeVisible({ timeout: 2_000 });
    }).toPass({ timeout: 30_000 });
    await theirs.getByRole('button', { name: 'Cancel' }).click();
  } finally {
    await Promise.all(contexts.map((c) => c.close()));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
