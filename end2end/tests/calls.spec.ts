// Real calls between real pages through window.TRTCCalling, with media flowing over WebRTC.
import { test, expect, uniqueId } from './support';
import { Client } from './calling';

let clients: Client[] = [];

test.afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
});

async function open(browser: any, base: string, ...prefixes: string[]): Promise<Client[]> {
  const opened: Client[] = [];
  for (const p of prefixes) {
    const c = await Client.open(browser, base, uniqueId(p));
    clients.push(c);
    opened.push(c);
  }
  return opened;
}

test('one-to-one video call: both sides play video and hear audio, hangup ends it', async ({ browser, server }) => {
  const [alice, bob] = await open(browser, server.url, 'alice', 'bob');
  const placed = await alice.invoke('call', { userID: bob.userId, type: 2, timeout: 30 });
  expect(placed.error).toBeUndefined();
  // As trtc-calling-js 1.0 resolves: a code, the invitation, and the data.
  expect(placed.ok).toMatchObject({ code: 0, inviteID: placed.ok.data.inviteID, data: { roomID: placed.ok.roomID } });
  const invite = await bob.waitFor('INVITED', { sponsor: alice.userId });
  expect(invite.userIDList).toEqual([bob.userId]);
  expect(invite.isFromGroup).toBe(false);
  expect(invite.inviteData).toMatchObject({ callType: 2, roomID: placed.ok.roomID, callEnd: 0 });
  expect(invite.inviteID).toBe(placed.ok.inviteID);

  // accept() with no arguments answers the invitation ringing, as pages on 1.0.3 and later call it.
  const accepted = await bob.invoke('accept');
  expect(accepted.ok).toMatchObject({ code: 0, inviteID: invite.inviteID });
  await alice.waitFor('USER_ENTER', { userID: bob.userId });
  await bob.waitFor('USER_ENTER', { userID: alice.userId });
  await alice.invoke('startLocalView', { userID: alice.userId, videoViewDomID: 'local' });
  await alice.invoke('startRemoteView', { userID: bob.userId, videoViewDomID: 'remote-1' });
  await bob.invoke('startRemoteView', { userID: alice.userId, videoViewDomID: 'remote-1' });

  await alice.expectVideoPlaying('remote-1');
  await bob.expectVideoPlaying('remote-1');
  await alice.expectVideoPlaying('local');
  await alice.expectAudioFrom(bob.userId);
  await bob.expectAudioFrom(alice.userId);
  // Indicators from WebRTC statistics: the fake microphone beeps, and loopback is a good link.
  await alice.waitFor('NETWORK_QUALITY', { userID: bob.userId, quality: 'good' });
  await alice.waitFor('SPEAKING', { userID: bob.userId, isSpeaking: true });
  // The local preview is muted; remote video elements carry no second copy of the audio.
  expect(await alice.page.evaluate(() => (document.querySelector('#local video') as HTMLVideoElement).muted)).toBe(true);

  expect((await alice.invoke('hangup')).ok).toMatchObject({ code: 0 });
  await bob.waitFor('USER_LEAVE', { userID: alice.userId });
  const ended = await bob.waitFor('CALL_END', { userID: bob.userId });
  // The call's length in whole seconds; this one lasted a few.
  expect(ended.callEnd).toBeGreaterThanOrEqual(1);
  // Both sides are free again: bob can call alice.
  expect((await bob.invoke('call', { userID: alice.userId, type: 1, timeout: 30 })).error).toBeUndefined();
  await alice.waitFor('INVITED', { sponsor: bob.userId });
});

test('reject, busy reject and cancel reach the other side', async ({ browser, server }) => {
  const [alice, bob] = await open(browser, server.url, 'alice', 'bob');

  await alice.invoke('call', { userID: bob.userId, type: 1, timeout: 30 });
  let invite = await bob.waitFor('INVITED');
  await bob.invoke('reject', { inviteID: invite.inviteID, isBusy: false, callType: 1 });
  await alice.waitFor('REJECT', { userID: bob.userId });
  await alice.waitFor('CALL_END');

  await alice.invoke('call', { userID: bob.userId, type: 1, timeout: 30 });
  await bob.page.waitForFunction(() => (window as any).events.filter((e: any) => e.name === 'INVITED').length === 2);
  invite = (await bob.events('INVITED'))[1].payload;
  // Without an inviteID, reject answers the invitation ringing.
  expect((await bob.invoke('reject', { isBusy: true })).ok).toMatchObject({ code: 0, inviteID: invite.inviteID });
  await alice.waitFor('LINE_BUSY', { sponsor: alice.userId, userID: bob.userId });

  await alice.invoke('call', { userID: bob.userId, type: 2, timeout: 30 });
  await bob.page.waitForFunction(() => (window as any).events.filter((e: any) => e.name === 'INVITED').length === 3);
  invite = (await bob.events('INVITED'))[2].payload;
  await alice.invoke('hangup');
  await bob.waitFor('CALLING_CANCEL', { inviteID: invite.inviteID });
  // The cancelled invitation can no longer be accepted.
  const late = await bob.invoke('accept', { inviteID: invite.inviteID, roomID: invite.inviteData.roomID, callType: 2 });
  expect(late.error).toMatchObject({ code: 4020, isError: true });
});

test('no answer times out on both sides', async ({ browser, server }) => {
  const [alice, bob] = await open(browser, server.url, 'alice', 'bob');
  await alice.invoke('call', { userID: bob.userId, type: 1, timeout: 2 });
  const invite = await bob.waitFor('INVITED');
  // The invitee learns how long it will ring (the dialog's countdown).
  expect(invite.timeout).toBeGreaterThan(0);
  expect(invite.timeout).toBeLessThanOrEqual(2);
  await alice.waitFor('NO_RESP', { sponsor: alice.userId, userID: bob.userId, userIDList: [bob.userId] });
  await bob.waitFor('CALLING_TIMEOUT', { inviteID: invite.inviteID, sponsor: alice.userId, userIDList: [bob.userId] });
  // It never connected.
  await alice.waitFor('CALL_END', { callEnd: 0 });
});

test('a callee already in a call is busy and not disturbed', async ({ browser, server }) => {
  const [alice, bob, carol] = await open(browser, server.url, 'alice', 'bob', 'carol');
  await carol.invoke('call', { userID: bob.userId, type: 1, timeout: 30 });
  await bob.acceptNext();
  await carol.waitFor('USER_ENTER', { userID: bob.userId });

  await alice.invoke('call', { userID: bob.userId, type: 1, timeout: 30 });
  await alice.waitFor('LINE_BUSY', { userID: bob.userId });
  expect(await bob.events('INVITED')).toHaveLength(1);
});

test('three-way group call: everyone plays two remote videos', async ({ browser, server }) => {
  const [alice, bob, carol] = await open(browser, server.url, 'alice', 'bob', 'carol');
  const placed = await alice.invoke('groupCall', { userIDList: [bob.userId, carol.userId], type: 2 });
  expect(placed.error).toBeUndefined();
  await bob.acceptNext();
  await carol.acceptNext();
  const everyone = [alice, bob, carol];
  for (const me of everyone) {
    const others = everyone.filter((c) => c !== me);
    for (const [i, other] of others.entries()) {
      await me.waitFor('USER_ENTER', { userID: other.userId });
      await me.invoke('startRemoteView', { userID: other.userId, videoViewDomID: `remote-${i + 1}` });
    }
  }
  for (const me of everyone) {
    await me.expectVideoPlaying('remote-1');
    await me.expectVideoPlaying('remote-2');
  }
  await carol.invoke('hangup');
  await alice.waitFor('USER_LEAVE', { userID: carol.userId });
  await bob.waitFor('USER_LEAVE', { userID: carol.userId });
  expect(await alice.events('CALL_END')).toHaveLength(0);
});

test('mute, camera off and switch to audio are seen by the peer', async ({ browser, server }) => {
  const [alice, bob] = await open(browser, server.url, 'alice', 'bob');
  await alice.invoke('call', { userID: bob.userId, type: 2, timeout: 30 });
  await bob.acceptNext();
  await alice.waitFor('USER_VIDEO_AVAILABLE', { userID: bob.userId, isVideoAvailable: true });
  await alice.waitFor('USER_AUDIO_AVAILABLE', { userID: bob.userId, isAudioAvailable: true });

  await bob.invoke('setMicMute', true);
  await alice.waitFor('USER_AUDIO_AVAILABLE', { userID: bob.userId, isAudioAvailable: false });
  await bob.invoke('closeCamera');
  await alice.waitFor('USER_VIDEO_AVAILABLE', { userID: bob.userId, isVideoAvailable: false });
  await bob.invoke('openCamera');
  await alice.waitFor('USER_VIDEO_AVAILABLE', { userID: bob.userId, isVideoAvailable: true });
  await bob.invoke('setMicMute', false);
  await alice.waitFor('USER_AUDIO_AVAILABLE', { userID: bob.userId, isAudioAvailable: true });

  expect((await alice.invoke('switchToAudioCall')).error).toBeUndefined();
  await bob.waitFor('USER_VIDEO_AVAILABLE', { userID: alice.userId, isVideoAvailable: false });
  // The peer follows the switch and turns its camera off too.
  await alice.page.waitForFunction(
    (id) => (window as any).events.filter((e: any) => e.name === 'USER_VIDEO_AVAILABLE' && e.payload.userID === id && !e.payload.isVideoAvailable).length >= 2,
    bob.userId,
  );
  await alice.expectAudioFrom(bob.userId);
});

test('switching type outside a one-to-one call fails with 60001/60002', async ({ browser, server }) => {
  const [alice] = await open(browser, server.url, 'alice');
  const r = await alice.invoke('switchToAudioCall');
  expect(r.error).toMatchObject({ code: 60001, isError: true });
  const error = await alice.waitFor('ERROR', { code: 60001 });
  expect(error.msg).toBe(error.message);
  const v = await alice.invoke('switchToVideoCall');
  expect(v.error).toMatchObject({ code: 60002 });
});

test('EVENT and CALL_TYPE hold what trtc-calling-js 1.0 pages compare against', async ({ browser, server }) => {
  const [alice] = await open(browser, server.url, 'alice');
  const { event, callType } = await alice.page.evaluate(() => {
    const T = (window as any).TRTCCalling;
    return { event: T.EVENT, callType: T.CALL_TYPE };
  });
  expect(event).toMatchObject({
    ERROR: 'onError', INVITED: 'onInvited', USER_ENTER: 'onUserEnter', USER_LEAVE: 'onUserLeave',
    REJECT: 'onReject', NO_RESP: 'onNoResp', LINE_BUSY: 'onLineBusy', CALLING_CANCEL: 'onCallingCancel',
    KICKED_OUT: 'onKickedOut', CALLING_TIMEOUT: 'onCallingTimeout', CALL_END: 'onCallEnd',
    CALLING_END: 'onCallEnd', USER_VIDEO_AVAILABLE: 'onUserVideoAvailable',
    USER_AUDIO_AVAILABLE: 'onUserAudioAvailable',
  });
  expect(callType).toEqual({ UNKNOWN: 0, AUDIO_CALL: 1, VIDEO_CALL: 2 });
  // With nothing ringing, accept() says so.
  expect((await alice.invoke('accept')).error).toMatchObject({ code: 4020 });
});

test('a second login kicks the first', async ({ browser, server }) => {
  const [first] = await open(browser, server.url, 'dora');
  const second = await Client.open(browser, server.url, first.userId);
  clients.push(second);
  await first.waitFor('KICKED_OUT');
  const r = await first.invoke('call', { userID: uniqueId('x'), type: 1 });
  expect(r.error).toMatchObject({ code: 4010 });
});

test("the spec's own listener form works: on('onInvited', handler, this) and off", async ({ browser, server }) => {
  const [alice, bob] = await open(browser, server.url, 'alice', 'bob');
  await bob.page.evaluate(() => {
    const w = window as any;
    const ctx = { seen: [] as string[] };
    w.ctx = ctx;
    w.handler = function (this: any, { inviteID, sponsor }: any) {
      this.seen.push(sponsor + ':' + inviteID);
    };
    w.calling.on('onInvited', w.handler, ctx);
  });
  await alice.invoke('call', { userID: bob.userId, type: 1, timeout: 30 });
  await bob.page.waitForFunction(() => (window as any).ctx.seen.length === 1);
  expect(await bob.page.evaluate(() => (window as any).ctx.seen[0])).toContain(alice.userId);
  await alice.invoke('hangup');
  await bob.waitFor('CALLING_CANCEL');

  await bob.page.evaluate(() => {
    const w = window as any;
    w.calling.off('onInvited', w.handler, w.ctx);
  });
  await alice.invoke('call', { userID: bob.userId, type: 1, timeout: 30 });
  await bob.page.waitForFunction(() => (window as any).events.filter((e: any) => e.name === 'INVITED').length === 2);
  expect(await bob.page.evaluate(() => (window as any).ctx.seen.length)).toBe(1);
});

test('bad arguments and calls while logged out reject with a coded Error', async ({ browser, server }) => {
  const [alice] = await open(browser, server.url, 'alice');
  expect((await alice.invoke('call', { userID: 'bob', type: 3 })).error).toMatchObject({ code: 4002, isError: true });
  expect((await alice.invoke('setVideoQuality', '4k')).error).toMatchObject({ code: 4002 });
  expect((await alice.invoke('setVideoQuality', '720p')).error).toBeUndefined();
  expect((await alice.invoke('accept', { inviteID: 'nope', roomID: 1, callType: 1 })).error).toMatchObject({ code: 4020 });
  await alice.invoke('logout');
  expect((await alice.invoke('call', { userID: 'bob', type: 1 })).error).toMatchObject({ code: 4010 });
});

test('setVideoQuality sets the capture size', async ({ browser, server }) => {
  const [alice, bob] = await open(browser, server.url, 'alice', 'bob');
  // The fake camera is one device for the whole browser: both ask for the same size.
  for (const c of [alice, bob]) expect((await c.invoke('setVideoQuality', '720p')).error).toBeUndefined();
  await alice.invoke('call', { userID: bob.userId, type: 2, timeout: 30 });
  await alice.invoke('startLocalView', { userID: alice.userId, videoViewDomID: 'local' });
  await alice.page.waitForFunction(() => (document.querySelector('#local video') as HTMLVideoElement)?.videoWidth > 0);
  const size = await alice.page.evaluate(() => {
    const v = document.querySelector('#local video') as HTMLVideoElement;
    return [v.videoWidth, v.videoHeight];
  });
  expect(size).toEqual([1280, 720]);
  await alice.invoke('hangup');
  await alice.invoke('stopLocalView', { userID: alice.userId, videoViewDomID: 'local' });
  expect(await alice.page.locator('#local video').count()).toBe(0);
});
