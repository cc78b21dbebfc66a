import { test, expect, signUp, expectHome, uniqueId, register } from './support';

test('add and remove contacts, with clear refusals', async ({ page, server, request }) => {
  const me = uniqueId('eve');
  const friend = uniqueId('fay');
  const other = uniqueId('gus');
  await register(request, server.url, friend);
  await register(request, server.url, other);
  await signUp(page, server.url, me);
  await expectHome(page, server.url, me);
  await expect(page.getByText('No contacts yet')).toBeVisible();

  const add = async (id: string) => {
    await page.getByLabel('Add a contact by user ID').fill(id);
    await page.getByRole('button', { name: 'Add contact' }).click();
  };
  const list = page.getByRole('list', { name: 'Your contacts' });

  await add(friend);
  await expect(list.getByRole('listitem')).toHaveCount(1);
  await expect(list.getByRole('listitem').first()).toContainText(friend);
  await add(other);
  await expect(list.getByRole('listitem')).toHaveCount(2);
  await expect(page.getByText('2 contacts')).toBeVisible();

  await add(friend);
  await expect(page.getByRole('alert')).toHaveText('That user is already one of your contacts.');
  await add(me);
  await expect(page.getByRole('alert')).toHaveText('You cannot add yourself as a contact.');
  await add(uniqueId('ghost'));
  await expect(page.getByRole('alert')).toHaveText('There is no user with that ID.');
  await add('not valid!');
  await expect(page.getByRole('alert')).toContainText('may contain only letters');
  await expect(list.getByRole('listitem')).toHaveCount(2);

  // Neither has answered: both are requests, which can be withdrawn.
  await expect(list.getByRole('listitem').first()).toContainText('Request sent');
  await page.getByRole('button', { name: `Withdraw request to ${friend}` }).click();
  await expect(list.getByRole('listitem')).toHaveCount(1);
  await expect(list).not.toContainText(friend);
  await expect(list).toContainText(other);
});
