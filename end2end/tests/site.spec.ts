// The calling site as a person uses it: contacts with presence, ringing, the call screen,
// history. Driven only through roles, labels and visible text.
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { test, expect, signUp, expectHome, uniqueId } from './support';

let contexts: BrowserContext[] = [];

test.afterEach(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  contexts = [];
});

async function person(browser: Browser, base: string, prefix: string, colorScheme: 'light' | 'dark' = 'light') {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1100, height: 760 } });
  contexts.push(context);
  const page = await context.newPage();
  const id = uniqueId(prefix);
  await signUp(page, base, id);
  await expectHome(page, base, id);
  return { id, page };
}

async function addContact(page: Page, id: string) {
  await page.getByLabel('Add a contact by user ID').fill(id);
  await page.getByRole('button', { name: 'Add contact' }).click();
  await expect(page.getByRole('list', { name: 'Your contacts' })).toContainText(id);
}

function row(page: Page, id: string) {
  return page.getByRole('list', { name: 'Your contacts' }).getByRole('listitem').filter({ hasText: id });
}

/** `a` asks `b` to be a contact and `b` accepts; `a`'s open page sees `b` come online. */
async function befriend(a: { page: Page; id: string }, b: { page: Page; id: string }) {
  await addContact(a.page, b.id);
  await b.page.reload();
  await b.page.getByRole('list', { name: 'Contact requests' }).getByRole('button', { name: `Accept ${a.id}` }).click();
  await expect(row(b.page, a.id)).toContainText('Online');
  await expect(row(a.page, b.id)).toContainText('Online');
}

/// The tile's video has a size and its frames keep coming.
async function expectTilePlaying(page: Page, id: string) {
  const video = page.getByRole('figure', { name: id }).locator('video');
  await expect
    .poll(() => video.evaluate((v: HTMLVideoElement) => v.videoWidth), { timeout: 20_000 })
    .toBeGreaterThan(0);
  const frames = () => video.evaluate((v: HTMLVideoElement) => v.getVideoPlaybackQuality().totalVideoFrames);
  const before = await frames();
  await expect.poll(frames, { timeout: 10_000 }).toBeGreaterThan(before + 5);
}

for (const scheme of ['light', 'dark'] as const) {
  test(`call a contact, see and hear each other, hang up, find it in history (${scheme})`, async ({ browser, server }, info) => {
    const alice = await person(browser, server.url, 'alice', scheme);
    const bob = await person(browser, server.url, 'bob', scheme);
    await addContact(alice.page, bob.id);
    await expect(row(alice.page, bob.id)).toContainText('Request sent');
    // Bob adding alice back accepts her request: her open page sees him come online.
    await addContact(bob.page, alice.id);
    await expect(row(alice.page, bob.id)).toContainText('Online');
    await expect(row(bob.page, alice.id)).toContainText('Online');
    await alice.page.screenshot({ path: info.outputPath(`contacts-${scheme}.png`) });

    await alice.page.getByRole('button', { name: `Video call ${bob.id}` }).click();
    await expect(alice.page.getByRole('dialog', { name: bob.id })).toContainText('Calling…');
    const ringing = bob.page.getByRole('alertdialog', { name: alice.id });
    await expect(ringing).toContainText('Incoming video call');
    await expect(ringing.getByRole('button', { name: 'Accept' })).toBeFocused();
    await bob.page.screenshot({ path: info.outputPath(`incoming-${scheme}.png`) });
    await ringing.getByRole('button', { name: 'Accept' }).click();

    await expectTilePlaying(alice.page, bob.id);
    await expectTilePlaying(bob.page, alice.id);
    await expect(row(bob.page, alice.id)).toContainText('In a call');
    await expect(alice.page.getByRole('figure', { name: bob.id }).getByRole('img', { name: 'Connection good' })).toBeVisible();
    await alice.page.screenshot({ path: info.outputPath(`call-two-${scheme}.png`) });

    // Device pickers list the devices; switching camera and microphone keeps the call going.
    await alice.page.getByText('Devices and quality').click();
    for (const label of ['Camera', 'Microphone']) {
      const picker = alice.page.getByRole('combobox', { name: label });
      await expect(picker.getByRole('option')).not.toHaveCount(0);
      const last = await picker.getByRole('option').last().getAttribute('value');
      await picker.selectOption(last!);
    }
    await expectTilePlaying(bob.page, alice.id);

    await alice.page.getByRole('button', { name: 'Mute' }).click();
    await expect(bob.page.getByRole('img', { name: `${alice.id} is muted` })).toBeVisible();
    await alice.page.getByRole('button', { name: 'Unmute' }).click();
    await expect(bob.page.getByRole('img', { name: `${alice.id} is muted` })).toHaveCount(0);
    await alice.page.getByRole('button', { name: 'Camera off' }).click();
    await expect(bob.page.getByRole('figure', { name: alice.id }).locator('video')).toBeHidden();
    await alice.page.getByRole('button', { name: 'Camera on' }).click();
    await expect(bob.page.getByRole('figure', { name: alice.id }).locator('video')).toBeVisible();

    await bob.page.getByRole('button', { name: 'Hang up' }).click();
    await expect(alice.page.getByRole('region', { name: 'Call' })).toHaveCount(0);
    await expect(bob.page.getByRole('region', { name: 'Call' })).toHaveCount(0);

    for (const [me, other, direction] of [[alice, bob, 'Outgoing'], [bob, alice, 'Incoming']] as const) {
      await me.page.getByRole('link', { name: 'History' }).click();
      const entry = me.page.getByRole('list', { name: 'Your calls' }).getByRole('listitem').first();
      await expect(entry).toContainText(other.id);
      await expect(entry).toContainText(direction);
      await expect(entry).toContainText('Video call');
    }
    await bob.page.screenshot({ path: info.outputPath(`history-${scheme}.png`) });
  });
}

test('a declined call and a missed call show as such', async ({ browser, server }) => {
  const alice = await person(browser, server.url, 'alice');
  const bob = await person(browser, server.url, 'bob');
  await befriend(alice, bob);

  await alice.page.getByRole('button', { name: `Audio call ${bob.id}` }).click();
  await bob.page.getByRole('alertdialog', { name: alice.id }).getByRole('button', { name: 'Decline' }).click();
  await expect(alice.page.getByRole('dialog', { name: bob.id }).getByRole('status')).toHaveText('Declined');
  await alice.page.getByRole('button', { name: 'Close' }).click();

  await alice.page.getByRole('button', { name: `Audio call ${bob.id}` }).click();
  await expect(bob.page.getByRole('alertdialog', { name: alice.id })).toBeVisible();
  await alice.page.getByRole('button', { name: 'Cancel' }).click();
  await expect(bob.page.getByRole('alertdialog')).toHaveCount(0);
  // The missed call is counted where bob will look, now and the next time he opens the site.
  await expect(bob.page.getByRole('link', { name: /History/ })).toContainText('1');
  await bob.page.reload();
  await expect(bob.page.getByRole('link', { name: /History/ })).toHaveAccessibleName('History 1 missed');

  await bob.page.getByRole('link', { name: /History/ }).click();
  const calls = bob.page.getByRole('list', { name: 'Your calls' }).getByRole('listitem');
  await expect(calls.nth(0)).toContainText('Missed');
  await expect(calls.nth(1)).toContainText('Declined');
  // Having looked, the badge is gone.
  await bob.page.getByRole('link', { name: 'Contacts' }).click();
  await expect(bob.page.getByRole('heading', { name: 'Contacts' })).toBeVisible();
  await expect(bob.page.getByRole('link', { name: /History/ })).toHaveAccessibleName('History');
  await alice.page.getByRole('link', { name: 'History' }).click();
  const mine = alice.page.getByRole('list', { name: 'Your calls' }).getByRole('listitem');
  await expect(mine.nth(0)).toContainText('Cancelled');
  await expect(mine.nth(1)).toContainText('Declined');
});

test('presence only for accepted requests; a declined one stays a request sent', async ({ browser, server }, info) => {
  const alice = await person(browser, server.url, 'alice');
  const bob = await person(browser, server.url, 'bob');
  const carol = await person(browser, server.url, 'carol');
  // Asking shows nothing of bob until he accepts.
  await addContact(alice.page, bob.id);
  await expect(row(alice.page, bob.id)).toContainText('Request sent');
  await bob.page.reload();
  const requests = bob.page.getByRole('list', { name: 'Contact requests' });
  await expect(requests).toContainText(alice.id);
  await alice.page.screenshot({ path: info.outputPath('request-sent.png') });
  await bob.page.screenshot({ path: info.outputPath('contact-request.png') });
  await requests.getByRole('button', { name: `Accept ${alice.id}` }).click();
  await expect(bob.page.getByRole('list', { name: 'Contact requests' })).toHaveCount(0);
  await expect(row(bob.page, alice.id)).toContainText('Online');
  await expect(row(alice.page, bob.id)).toContainText('Online');

  // Carol declines alice: alice is not told, and never sees carol's presence.
  await addContact(alice.page, carol.id);
  await carol.page.reload();
  await carol.page.getByRole('button', { name: `Decline ${alice.id}` }).click();
  await expect(carol.page.getByRole('list', { name: 'Contact requests' })).toHaveCount(0);
  await expect(carol.page.getByRole('list', { name: 'Your contacts' })).toHaveCount(0);
  await alice.page.reload();
  await expect(row(alice.page, carol.id)).toContainText('Request sent');

  await bob.page.close();
  await expect(row(alice.page, bob.id)).toContainText('Offline');
});

for (const scheme of ['light', 'dark'] as const) test(`a three-way group call from the contact picker, then through a saved group (${scheme})`, async ({ browser, server }, info) => {
  const alice = await person(browser, server.url, 'alice', scheme);
  const bob = await person(browser, server.url, 'bob', scheme);
  const carol = await person(browser, server.url, 'carol', scheme);
  for (const other of [bob, carol]) await befriend(alice, other);

  await alice.page.getByRole('checkbox', { name: `Select ${bob.id}` }).check();
  await alice.page.getByRole('checkbox', { name: `Select ${carol.id}` }).check();
  const bar = alice.page.getByRole('region', { name: 'Selected contacts' });
  await expect(bar).toContainText('2 selected');
  await bar.getByRole('button', { name: 'Group video call' }).click();
  for (const callee of [bob, carol]) {
    const ringing = callee.page.getByRole('alertdialog', { name: alice.id });
    await expect(ringing).toContainText('Incoming video call');
    await ringing.getByRole('button', { name: 'Accept' }).click();
  }
  for (const [me, others] of [[alice, [bob, carol]], [bob, [alice, carol]], [carol, [alice, bob]]] as const) {
    for (const other of others) await expectTilePlaying(me.page, other.id);
  }
  await alice.page.screenshot({ path: info.outputPath(`call-three-${scheme}.png`) });
  // Switching type is for one-to-one calls only.
  await expect(alice.page.getByRole('button', { name: 'Switch to audio' })).toHaveCount(0);
  await alice.page.getByRole('button', { name: 'Hang up' }).click();
  await bob.page.getByRole('button', { name: 'Hang up' }).click();
  // Left alone, carol's call ends by itself.
  await expect(carol.page.getByRole('region', { name: 'Call' })).toHaveCount(0);

  // Save the pair as a group and call it again through the group.
  await alice.page.getByRole('checkbox', { name: `Select ${bob.id}` }).check();
  await alice.page.getByRole('checkbox', { name: `Select ${carol.id}` }).check();
  await bar.getByLabel('Group name').fill('Team');
  await bar.getByRole('button', { name: 'Save as group' }).click();
  const groups = alice.page.getByRole('list', { name: 'Your groups' });
  await expect(groups).toContainText('Team');
  await groups.getByRole('button', { name: 'Audio call group Team' }).click();
  for (const callee of [bob, carol]) {
    await expect(callee.page.getByRole('alertdialog', { name: alice.id })).toContainText('Incoming audio call');
  }
  await alice.page.getByRole('button', { name: 'Cancel' }).click();
});

test('signing in elsewhere takes the calls; this tab can take them back', async ({ browser, server }) => {
  const alice = await person(browser, server.url, 'alice');
  // The same person signs in on a second device.
  const other = await browser.newContext();
  contexts.push(other);
  const second = await other.newPage();
  await second.goto(`${server.url}/login`);
  await second.getByLabel('User ID', { exact: true }).fill(alice.id);
  await second.getByLabel('Password', { exact: true }).fill('correct horse battery');
  await second.getByRole('button', { name: 'Sign in' }).click();
  await expectHome(second, server.url, alice.id);

  const notice = alice.page.getByRole('alertdialog', { name: 'You signed in somewhere else' });
  await expect(notice).toBeVisible();
  await notice.getByRole('button', { name: 'Use this tab' }).click();
  await expect(notice).toHaveCount(0);
  await expect(second.getByRole('alertdialog', { name: 'You signed in somewhere else' })).toBeVisible();
});

test('blocking a caller: their calls never ring, and they can be unblocked', async ({ browser, server }) => {
  const alice = await person(browser, server.url, 'alice');
  const mallory = await person(browser, server.url, 'mallory');
  await befriend(alice, mallory);
  // A call alice declines leaves mallory a way to call back from the history.
  await alice.page.getByRole('button', { name: `Audio call ${mallory.id}` }).click();
  await mallory.page.getByRole('alertdialog', { name: alice.id }).getByRole('button', { name: 'Decline' }).click();
  await expect(alice.page.getByRole('dialog', { name: mallory.id }).getByRole('status')).toHaveText('Declined');
  await alice.page.getByRole('button', { name: 'Close' }).click();

  await alice.page.getByRole('button', { name: `Block ${mallory.id}` }).click();
  await expect(alice.page.getByRole('list', { name: 'Blocked users' })).toContainText(mallory.id);
  await expect(alice.page.getByRole('list', { name: 'Your contacts' })).toHaveCount(0);

  // Mallory calls back: it rings on mallory's side, never on alice's.
  await mallory.page.getByRole('link', { name: /History/ }).click();
  await mallory.page.getByRole('button', { name: `Call back ${alice.id}` }).click();
  await expect(mallory.page.getByRole('dialog', { name: alice.id })).toContainText('Calling…');
  await alice.page.waitForTimeout(1500);
  await expect(alice.page.getByRole('alertdialog')).toHaveCount(0);
  await mallory.page.getByRole('button', { name: 'Cancel' }).click();

  await alice.page.getByRole('button', { name: `Unblock ${mallory.id}` }).click();
  await expect(alice.page.getByRole('list', { name: 'Blocked users' })).toHaveCount(0);
});
