// Call setup through the relay: the timed call of call-setup.spec.ts between two browsers behind
// strict NATs in the NAT bed (../tests/netbed.ts), which only the embedded TURN server can carry,
// against the same call between two pages of one browser on a LAN of the bed, which connects
// directly. Relayed and direct calls take turns against one server, in one run.
//
// The relayed call's two pages are in two browser processes; `performance.timeOrigin +
// performance.now()` in both reads the same system clock, to well under a millisecond.
import { test, expect, type Browser, type BrowserContext } from '@playwright/test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Server, tempDir, uniqueId } from '../tests/support';
import { Client } from '../tests/calling';
import { BED, PORTS, SERVER_IP, browserIn, netbed } from '../tests/netbed';
import { arm, percentile, prepare, print, round, timeOneCall, type Figure } from './setup';

const CALLS = Number(process.env.BENCH_CALLS ?? 20);

let dir: string;
let server: Server | undefined;
let browsers: Browser[] = [];
let contexts: BrowserContext[] = [];

test.beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'calling-relayed-'));
  netbed('up', BED);
  server = await Server.start(
    tempDir(),
    {
      LEPTOS_SITE_ADDR: `${SERVER_IP}:${PORTS.embedded}`,
      CALLING_TURN_LISTEN: `${SERVER_IP}:3478`,
    },
    `${BED}-srv`,
  );
  browsers = [
    await browserIn(`${BED}-cla`, dir),
    await browserIn(`${BED}-clb`, dir),
    // Host candidates as addresses, not mDNS names, which nothing in the bed answers: two pages
    // of this browser reach each other directly.
    await browserIn(`${BED}-cla`, dir, ['--disable-features=WebRtcHideLocalIpsWithMdns']),
  ];
});

test.afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  await Promise.all(browsers.map((b) => b.close()));
  await server?.stop();
  netbed('down', BED);
  rmSync(dir, { recursive: true, force: true });
});

async function open(browser: Browser, base: string, prefix: string): Promise<Client> {
  const client = await Client.open(browser, base, uniqueId(prefix));
  contexts.push(client.context);
  await prepare(client);
  return client;
}

/** After a call, while its connection is up, which kind of pair carried it. */
async function pairOf(from: Client, to: Client): Promise<string[]> {
  const stats = (await from.invoke('getStats', to.userId)).ok;
  return [stats?.localCandidateType, stats?.remoteCandidateType];
}

test('call setup through the relay, against a direct call', async () => {
  expect(Number.isInteger(CALLS) && CALLS > 0, `BENCH_CALLS must be a positive whole number, not ${process.env.BENCH_CALLS}`).toBe(true);
  const base = server!.url;
  const [natA, natB, lan] = browsers;
  const relayed = [await open(natA, base, 'caller'), await open(natB, base, 'callee')];
  const direct = [await open(lan, base, 'caller'), await open(lan, base, 'callee')];

  // Once each, held open: the kinds of pair are what the figures claim.
  await Promise.all([...relayed, ...direct].map(arm));
  await relayed[0].invoke('call', { userID: relayed[1].userId, type: 2, timeout: 30 });
  await relayed[1].acceptNext();
  await expect.poll(() => pairOf(relayed[0], relayed[1]), { timeout: 20_000 }).toContain('relay');
  await relayed[0].invoke('hangup');
  await relayed[1].waitFor('CALL_END');
  await direct[0].invoke('call', { userID: direct[1].userId, type: 2, timeout: 30 });
  await direct[1].acceptNext();
  await expect.poll(() => pairOf(direct[0], direct[1]), { timeout: 20_000 }).toEqual(['host', 'host']);
  await direct[0].invoke('hangup');
  await direct[1].waitFor('CALL_END');

  const series = { relayedCaller: [] as number[], relayedCallee: [] as number[], directCaller: [] as number[], directCallee: [] as number[] };
  for (let i = 0; i < CALLS; i++) {
    const r = await timeOneCall(relayed[0], relayed[1]);
    series.relayedCaller.push(r.callerFrame);
    series.relayedCallee.push(r.calleeFrame);
    const d = await timeOneCall(direct[0], direct[1]);
    series.directCaller.push(d.callerFrame);
    series.directCallee.push(d.calleeFrame);
  }
  for (const [name, values] of Object.entries(series)) {
    expect(values, name).toHaveLength(CALLS);
    for (const v of values) expect(Number.isFinite(v) && v > 0, `${name}: ${values.join(', ')}`).toBe(true);
  }

  const rows: Figure[] = [];
  const sides = [
    ['caller', series.relayedCaller, series.directCaller],
    ['callee', series.relayedCallee, series.directCallee],
  ] as const;
  for (const [side, relayedTimes, directTimes] of sides) {
    for (const [label, q] of [['median', 0.5], ['p90', 0.9]] as const) {
      const value = percentile(relayedTimes, q);
      const baseline = percentile(directTimes, q);
      rows.push({
        group: 'browser',
        name: `accept() to first remote frame at ${side}, relayed (two strict NATs) vs direct, ${label}`,
        value: round(value),
        unit: 'ms',
        baseline: round(baseline),
        ratio: Math.round((value / baseline) * 100) / 100,
        limited_by: 'TURN allocation round trips + the relayed path; the baseline connects host to host',
      });
    }
  }
  print(rows, `relayed call setup over ${CALLS} calls (ms)`);
  for (const [name, values] of Object.entries(series)) {
    console.log(`${name}: ${values.map((v) => v.toFixed(1)).join(' ')}`);
  }
  const out = process.env.BENCH_OUT_RELAYED;
  if (out) {
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileSync(out, JSON.stringify(rows, null, 2) + '\n');
  }
});
