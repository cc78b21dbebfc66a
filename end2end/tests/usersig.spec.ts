// UserSigs interoperate with Tencent's official Node.js library, `tls-sig-api-v2`.
import { createHmac } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { test, expect, signUp, uniqueId, SECRET_KEY, SDK_APP_ID } from './support';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const TLSSigAPIv2 = require('tls-sig-api-v2');

const official = new TLSSigAPIv2.Api(SDK_APP_ID, SECRET_KEY);

test('sigs minted by the official library are accepted', async ({ request, server }) => {
  const verify = (userID: string, userSig: string) =>
    request.post(`${server.url}/api/usersig/verify`, { data: { userID, userSig } });

  const id = uniqueId('jay');
  const sig: string = official.genUserSig(id, 86400);
  const r = await verify(id, sig);
  expect(r.status()).toBe(200);
  const body = await r.json();
  expect(body).toMatchObject({ valid: true, userID: id, SDKAppID: SDK_APP_ID });

  // With a userbuf (a PrivateMapKey) too.
  const withBuf: string = official.genPrivateMapKey(id, 3600, 1234, 255);
  expect((await verify(id, withBuf)).status()).toBe(200);

  // Another user's sig, another key's sig and an expired sig are refused, each for its reason.
  expect((await (await verify(uniqueId('kim'), sig)).json()).error).toBe('usersig_other_user');
  const forged: string = new TLSSigAPIv2.Api(SDK_APP_ID, 'not our key').genUserSig(id, 86400);
  expect((await (await verify(id, forged)).json()).error).toBe('usersig_bad_signature');
  const expired: string = official.genUserSig(id, -1);
  expect((await (await verify(id, expired)).json()).error).toBe('usersig_expired');
});

test("our sigs are in Tencent's format", async ({ page, server }) => {
  const id = uniqueId('lou');
  await signUp(page, server.url, id);
  const r = await page.request.get(`${server.url}/api/usersig`);
  expect(r.status()).toBe(200);
  const { SDKAppID, userID, userSig } = await r.json();
  expect(SDKAppID).toBe(SDK_APP_ID);
  expect(userID).toBe(id);

  // Decode it the way Tencent's library encodes, and check the HMAC independently.
  const b64 = userSig.replace(/\*/g, '+').replace(/-/g, '/').replace(/_/g, '=');
  const doc = JSON.parse(inflateSync(Buffer.from(b64, 'base64')).toString());
  expect(doc['TLS.ver']).toBe('2.0');
  expect(doc['TLS.identifier']).toBe(id);
  expect(doc['TLS.sdkappid']).toBe(SDK_APP_ID);
  expect(doc['TLS.expire']).toBe(86400);
  const content =
    `TLS.identifier:${id}\nTLS.sdkappid:${SDK_APP_ID}\n` +
    `TLS.time:${doc['TLS.time']}\nTLS.expire:${doc['TLS.expire']}\n`;
  expect(doc['TLS.sig']).toBe(createHmac('sha256', SECRET_KEY).update(content).digest('base64'));

  // Signed out, there is no sig to be had.
  const anonymous = await page.context().browser()!.newContext();
  try {
    const r2 = await anonymous.request.get(`${server.url}/api/usersig`);
    expect(r2.status()).toBe(401);
    expect((await r2.json()).error).toBe('not_signed_in');
  } finally {
    await anonymous.close();
  }
});
