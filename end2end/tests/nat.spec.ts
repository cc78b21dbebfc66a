// Calls between two people behind strict NATs, in a small internet of network namespaces
// (netbed/netbed.sh): each browser behind its own home router that maps every flow to a fresh
// port and drops what it did not ask for, the server on a public address with no uplink. Only a
// relay can carry such a call.
import { test, expect, type Browser } from '@playwright/test';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Server, signUp, tempDir, uniqueId } from './support';
import { Client } from './calling';
import { BED, PORTS, SERVER_IP, browserIn, makeCertificate, netbed } from './netbed';

/** The HTTPS port: a secure origin on its own merit, not in the insecure list. */
const TLS_PORT = 8443;
const COTURN_PORT = 3479;
const TURN_SECRET = 'a shared secret for the coturn run';

/** Debian's coturn in the server's namespace, set up as the README says for external mode. */
async function startCoturn(dir: string): Promise<ChildProcess> {
  const conf = path.join(dir, 'turnserver.conf');
  writeFileSync(
    conf,
    [
      `listening-ip=${SERVER_IP}`,
      `listening-port=${COTURN_PORT}`,
      `relay-ip=${SERVER_IP}`,
      'min-port=40000',
      'max-port=40999',
      'use-auth-secret',
      `static-auth-secret=${TURN_SECRET}`,
      'realm=calling',
      'no-cli',
      'no-tls',
      'no-dtls',
      'no-multicast-peers',
      'denied-peer-ip=10.0.0.0-10.255.255.255',
      'denied-peer-ip=172.16.0.0-172.31.255.255',
      'denied-peer-ip=192.168.0.0-192.168.255.255',
      `userdb=${path.join(dir, 'turndb')}`,
      `pidfile=${path.join(dir, 'turnserver.pid')}`,
      'log-file=stdout',
      'simple-log',
      '',
    ].join('\n'),
  );
  const proc = spawn('ip', ['netns', 'exec', `${BED}-srv`, 'turnserver', '-c', conf], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  // coturn says nothing when its listeners are up: look for its UDP and TCP sockets, for at most
  // 15 s.
  const listening = () =>
    execFileSync('ip', ['netns', 'exec', `${BED}-srv`, 'ss', '-Hltun', `sport = :${COTURN_PORT}`]).toString();
  for (let i = 0; ; i++) {
    const sockets = listening();
    if (sockets.includes('udp') && sockets.includes('tcp')) break;
    if (proc.exitCode !== null || i === 150) {
      proc.kill('SIGKILL');
      throw new Error(`coturn did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return proc;
}

let dir: string;
let certificate: { cert: string; key: string; spki: string };
let browsers: Browser[] = [];
let servers: Server[] = [];
let clients: Client[] = [];
let pageErrors: string[] = [];

test.beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'calling-nat-'));
  netbed('up', BED);
  certificate = makeCertificate(dir);
  // The certificate the test made, and only it.
  const trust = [`--ignore-certificate-errors-spki-list=${certificate.spki}`];
  browsers = [await browserIn(`${BED}-cla`, dir, trust), await browserIn(`${BED}-clb`, dir, trust)];
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus) {
    // What each side saw, to tell a path that never came up from one that did not come back.
    for (const c of clients) {
      const events = await c.events().catch(() => []);
      console.log(`${c.userId} saw: ${JSON.stringify(events.filter((e) => e.name !== 'NETWORK_QUALITY' && e.name !== 'SPEAKING'))}`);
    }
  }
  await Promise.all(clients.map((c) => c.close()));
  clients = [];
  const errors = pageErrors;
  pageErrors = [];
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
  netbed('udp', BED, 'on');
  // Uncaught errors in the pages (a Wasm panic among them) fail the test.
  expect(errors, 'uncaught errors in the pages').toEqual([]);
});

test.afterAll(async () => {
  await Promise.all(browsers.map((b) => b.close()));
  netbed('down', BED);
  rmSync(dir, { recursive: true, force: true });
});

async function serve(
  mode: keyof typeof PORTS,
  env: Record<string, string> = {},
  port = PORTS[mode],
): Promise<string> {
  const server = await Server.start(
    tempDir(),
    {
      LEPTOS_SITE_ADDR: `${SERVER_IP}:${port}`,
      CALLING_TURN: mode,
      CALLING_TURN_LISTEN: `${SERVER_IP}:3478`,
      ...env,
    },
    `${BED}-srv`,
  );
  servers.push(server);
  return server.url;
}

/** Alice behind one NAT calls Bob behind the other; both accept the video call. */
async function call(base: string): Promise<[Client, Client]> {
  const alice = await Client.open(browsers[0], base, uniqueId('alice'));
  const bob = await Client.open(browsers[1], base, uniqueId('bob'));
  clients.push(alice, bob);
  for (const c of [alice, bob]) c.page.on('pageerror', (e) => pageErrors.push(e.message));
  expect((await alice.invoke('call', { userID: bob.userId, type: 2, timeout: 30 })).error).toBeUndefined();
  await bob.acceptNext();
  return [alice, bob];
}

async function expectMediaBothWays(alice: Client, bob: Client): Promise<void> {
  await alice.invoke('startRemoteView', { userID: bob.userId, videoViewDomID: 'remote-1' });
  await bob.invoke('startRemoteView', { userID: alice.userId, videoViewDomID: 'remote-1' });
  await alice.expectVideoPlaying('remote-1');
  await bob.expectVideoPlaying('remote-1');
  await alice.expectAudioFrom(bob.userId);
  await bob.expectAudioFrom(alice.userId);
}

/** The selected pair on `from`'s side of its connection with `to` goes through a relay. */
async function expectRelayed(from: Client, to: Client, protocol: 'udp' | 'tcp'): Promise<void> {
  const stats = (await from.invoke('getStats', to.userId)).ok;
  expect([stats.localCandidateType, stats.remoteCandidateType], JSON.stringify(stats)).toContain('relay');
  if (stats.localCandidateType === 'relay') expect(stats.localRelayProtocol).toBe(protocol);
}

test('two strict NATs: the call goes through the embedded relay, media flows both ways', async () => {
  const [alice, bob] = await call(await serve('embedded'));
  await expectMediaBothWays(alice, bob);
  await expectRelayed(alice, bob, 'udp');
  await expectRelayed(bob, alice, 'udp');
});

test('over HTTPS and WSS with its own certificate, the site is a secure origin and calls work', async () => {
  const tls = { CALLING_TLS_CERT: certificate.cert, CALLING_TLS_KEY: certificate.key };
  const base = await serve('embedded', tls, TLS_PORT);
  expect(base).toBe(`https://${SERVER_IP}:${TLS_PORT}`);
  // Not in the insecure-origins list: the camera works because the origin is secure.
  const [alice, bob] = await call(base);
  expect(await alice.page.evaluate(() => window.isSecureContext)).toBe(true);
  await expectMediaBothWays(alice, bob);

  // The session cookie of a person who signs up is for HTTPS only.
  const context = await browsers[1].newContext();
  try {
    const page = await context.newPage();
    await signUp(page, base, uniqueId('carol'));
    await expect(page).toHaveURL(`${base}/`);
    const cookies = await context.cookies(base);
    expect(cookies.length).toBeGreaterThan(0);
    expect(cookies.every((c) => c.secure)).toBe(true);
  } finally {
    await context.close();
  }
});

test('with UDP blocked between the NATs and the server, the call goes over TURN/TCP', async () => {
  const base = await serve('embedded');
  netbed('udp', BED, 'off');
  const [alice, bob] = await call(base);
  await expectMediaBothWays(alice, bob);
  // Neither side can reach the relay over UDP, so both ends of the pair are relayed over TCP.
  const a = (await alice.invoke('getStats', bob.userId)).ok;
  const b = (await bob.invoke('getStats', alice.userId)).ok;
  expect([a.localCandidateType, a.localRelayProtocol], JSON.stringify(a)).toEqual(['relay', 'tcp']);
  expect([b.localCandidateType, b.localRelayProtocol], JSON.stringify(b)).toEqual(['relay', 'tcp']);
});

test('a NAT that moves the media flows mid-call: ICE restarts and the media comes back', async () => {
  const [alice, bob] = await call(await serve('embedded'));
  await expectMediaBothWays(alice, bob);
  // Alice's flows to the relay, over UDP and TCP, move to another public address on new ports
  // (her signaling socket stays): the relay has never seen them, her allocations are lost and
  // Bob's have no permission for the new address. Only an ICE restart brings the media back.
  netbed('remap', BED, 'a');
  const before = Date.now();
  await alice.waitFor('RECONNECTING', { userID: bob.userId, isReconnecting: true }, 20_000);
  const down = Date.now();
  await alice.waitFor('RECONNECTING', { userID: bob.userId, isReconnecting: false }, 30_000);
  const seconds = (t: number) => ((t - before) / 1000).toFixed(1);
  console.log(`after the NAT moved: seen down at ${seconds(down)} s, back at ${seconds(Date.now())} s`);
  await alice.expectVideoPlaying('remote-1');
  await bob.expectVideoPlaying('remote-1');
  await expectRelayed(alice, bob, 'udp');
});

test('without a relay the call fails on both sides with an ERROR, not a hang', async () => {
  const [alice, bob] = await call(await serve('off'));
  const why = /Could not connect with .*TURN/;
  const a = await alice.waitFor('ERROR', {}, 40_000);
  const b = await bob.waitFor('ERROR', {}, 40_000);
  expect(a.message).toMatch(why);
  expect(b.message).toMatch(why);
  await alice.waitFor('CALL_END');
  await bob.waitFor('CALL_END');
});

test('external mode: credentials minted for Debian coturn carry the call', async () => {
  const coturn = await startCoturn(dir);
  try {
    const urls = ['udp', 'tcp'].map((t) => `turn:${SERVER_IP}:${COTURN_PORT}?transport=${t}`);
    const [alice, bob] = await call(
      await serve('external', { CALLING_TURN_URLS: urls.join(','), CALLING_TURN_SECRET: TURN_SECRET }),
    );
    await expectMediaBothWays(alice, bob);
    await expectRelayed(alice, bob, 'udp');
    await expectRelayed(bob, alice, 'udp');
  } finally {
    const exited = new Promise((r) => coturn.once('exit', r));
    coturn.kill('SIGTERM');
    await exited;
  }
});
