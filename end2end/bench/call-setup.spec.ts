// Call setup in real Chromium, through window.TRTCCalling: how long from call() until the callee
// rings, and from accept() until each side shows the other's first video frame. A bare pair of
// RTCPeerConnections in the same browser, with no signaling at all, gives the floor to compare.
//
// Run with, from the repository root after a debug build (loopback-only network, like `make e2e`):
//   unshare --net sh -c 'ip link set lo up && cd end2end && BENCH_CALLS=20 BENCH_OUT=/tmp/callsetup.json \
//     npx playwright test -c playwright.bench.config.ts'
//
// Both pages live in one browser on one machine, so `performance.timeOrigin + performance.now()`
// is one clock for all of them. First frames are stamped with requestVideoFrameCallback's `now`,
// the start of the rendering step that shows the frame, so they move in steps of one display
// frame (~16.7 ms) and both pages often see the same step. Figures are printed and written to
// BENCH_OUT; nothing here asserts on speed, only that every call went through and produced its
// numbers.
import { test, expect, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Server, tempDir, uniqueId } from '../tests/support';
import { Client } from '../tests/calling';

const CALLS = Number(process.env.BENCH_CALLS ?? 20);
/** The fake camera is one device for the whole browser, so everyone asks for the same size. */
const QUALITY = '480p';
/** What the engine asks getUserMedia for at '480p'. */
const CAPTURE = { width: { ideal: 640 }, height: { ideal: 480 } };
/** The element each side renders the other's video into, made afresh for every call. */
const VIEW = 'bench-remote';
const FRAME_TIMEOUT = 20_000;

type Figure = {
  group: 'browser';
  name: string;
  value: number;
  unit: 'ms';
  baseline: number | null;
  ratio: number | null;
  limited_by: string;
};

let server: Server | undefined;
let dataDir: string | undefined;
let contexts: BrowserContext[] = [];

test.beforeAll(async () => {
  dataDir = tempDir();
  server = await Server.start(dataDir);
});

test.afterEach(async () => {
  await Promise.all(contexts.map((c) => c.close()));
  contexts = [];
});

test.afterAll(async () => {
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/**
 * Gets a logged-in client ready for timing: INVITED is stamped the moment it arrives, and on
 * USER_ENTER the page shows the newcomer's video, as an application would. `bench.arm()` makes
 * a fresh view element and stamps the first frame of the <video> the engine puts into it.
 */
async function prepare(client: Client): Promise<void> {
  await client.page.evaluate(
    async ({ view, quality }) => {
      const w = window as any;
      const clock = () => performance.timeOrigin + performance.now();
      const bench: any = { errors: [] as string[] };
      bench.arm = () => {
        bench.invitedAt = null;
        bench.invite = null;
        bench.firstFrameAt = null;
        bench.observer?.disconnect();
        document.getElementById(view)?.remove();
        const host = document.createElement('div');
        host.id = view;
        host.style.width = '160px';
        host.style.height = '120px';
        document.body.appendChild(host);
        // The engine creates the <video> inside startRemoteView, before any media has arrived,
        // and sets its source later; a frame callback asked for now still fires on the first
        // frame of that later source.
        const watch = (video: HTMLVideoElement) =>
          video.requestVideoFrameCallback((now) => {
            if (bench.firstFrameAt === null) bench.firstFrameAt = performance.timeOrigin + now;
          });
        bench.observer = new MutationObserver((records) => {
          for (const r of records) {
            for (const node of Array.from(r.addedNodes)) {
              if (node instanceof HTMLVideoElement) watch(node);
            }
          }
        });
        bench.observer.observe(host, { childList: true, subtree: true });
      };
      w.bench = bench;
      w.calling.on('INVITED', (payload: any) => {
        if (bench.invitedAt !== null) return;
        bench.invitedAt = clock();
        bench.invite = payload;
      });
      w.calling.on('USER_ENTER', ({ userID }: any) => {
        w.calling
          .startRemoteView({ userID, videoViewDomID: view })
          .catch((e: any) => bench.errors.push(`startRemoteView: ${e.code} ${e.message}`));
      });
      await w.calling.setVideoQuality(quality);
    },
    { view: VIEW, quality: QUALITY },
  );
}

/** Forgets the last call's events and stamps, and gives the page an empty view element. */
async function arm(client: Client): Promise<void> {
  await client.page.evaluate(() => {
    const w = window as any;
    w.events = [];
    w.bench.arm();
  });
}

async function firstFrameAt(client: Client): Promise<number> {
  const handle = await client.page.waitForFunction(() => (window as any).bench.firstFrameAt, null, {
    timeout: FRAME_TIMEOUT,
  });
  return (await handle.jsonValue()) as number;
}

type CallTimes = { invited: number; callerFrame: number; calleeFrame: number };

/** One video call from `caller` to `callee`, accepted, shown on both sides and hung up. */
async function timeOneCall(caller: Client, callee: Client): Promise<CallTimes> {
  await Promise.all([arm(caller), arm(callee)]);

  const placed = await caller.page.evaluate(async (userID) => {
    const w = window as any;
    const at = performance.timeOrigin + performance.now();
    const r = await w.calling.call({ userID, type: 2, timeout: 30 });
    return { at, roomID: r.roomID };
  }, callee.userId);
  await callee.page.waitForFunction(() => (window as any).bench.invite !== null, null, { timeout: 15_000 });
  const rang = await callee.page.evaluate(() => {
    const b = (window as any).bench;
    return { at: b.invitedAt as number, invite: b.invite };
  });
  expect(rang.invite.sponsor).toBe(caller.userId);
  expect(rang.invite.inviteData).toMatchObject({ callType: 2, roomID: placed.roomID });

  const acceptedAt = await callee.page.evaluate(async () => {
    const w = window as any;
    const { inviteID, inviteData } = w.bench.invite;
    const at = performance.timeOrigin + performance.now();
    await w.calling.accept({ inviteID, roomID: inviteData.roomID, callType: inviteData.callType });
    return at;
  });
  const [callerFrame, calleeFrame] = await Promise.all([firstFrameAt(caller), firstFrameAt(callee)]);

  expect((await caller.invoke('hangup')).error).toBeUndefined();
  await callee.waitFor('USER_LEAVE', { userID: caller.userId });
  await callee.waitFor('CALL_END');
  for (const c of [caller, callee]) {
    expect(await c.page.evaluate(() => (window as any).bench.errors)).toEqual([]);
  }
  return {
    invited: rang.at - placed.at,
    callerFrame: callerFrame - acceptedAt,
    calleeFrame: calleeFrame - acceptedAt,
  };
}

/**
 * Two RTCPeerConnections in one page, wired directly: from createOffer on the first until the
 * second shows its first decoded frame. Resolves with the delay in ms.
 */
function barePair(page: Page): Promise<number> {
  return page.evaluate(
    async ({ capture, frameTimeout }) => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: capture });
      const pc1 = new RTCPeerConnection();
      const pc2 = new RTCPeerConnection();
      const video = document.createElement('video');
      video.muted = true;
      video.autoplay = true;
      video.playsInline = true;
      video.style.width = '160px';
      video.style.height = '120px';
      document.body.appendChild(video);
      // Candidates wait for the other side's remote description, as a signaling peer's would.
      const handOver = (from: RTCPeerConnection, to: RTCPeerConnection) => {
        let ready = () => {};
        const remoteSet = new Promise<void>((r) => (ready = r));
        from.onicecandidate = (e) => {
          if (e.candidate) {
            const c = e.candidate;
            void remoteSet.then(() => to.addIceCandidate(c));
          }
        };
        return ready;
      };
      const pc2Ready = handOver(pc1, pc2);
      const pc1Ready = handOver(pc2, pc1);
      try {
        const firstFrame = new Promise<number>((resolve, reject) => {
          video.requestVideoFrameCallback((now) => resolve(performance.timeOrigin + now));
          setTimeout(() => reject(new Error('no frame from the bare pair')), frameTimeout);
        });
        pc2.ontrack = (e) => {
          video.srcObject = e.streams[0] ?? new MediaStream([e.track]);
          void video.play().catch(() => {});
        };
        for (const track of stream.getTracks()) pc1.addTrack(track, stream);
        const at = performance.timeOrigin + performance.now();
        const offer = await pc1.createOffer();
        await pc1.setLocalDescription(offer);
        await pc2.setRemoteDescription(offer);
        pc2Ready();
        const answer = await pc2.createAnswer();
        await pc2.setLocalDescription(answer);
        await pc1.setRemoteDescription(answer);
        pc1Ready();
        return (await firstFrame) - at;
      } finally {
        pc1.close();
        pc2.close();
        for (const track of stream.getTracks()) track.stop();
        video.remove();
      }
    },
    { capture: CAPTURE, frameTimeout: FRAME_TIMEOUT },
  );
}

/** A page on the site's origin (a secure context, so it may capture) with nothing else in it. */
async function blankPage(browser: Browser, base: string): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const url = `${base}/bench-blank`;
  await context.route(url, (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>bare</title>' }));
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

/** The value at rank ⌈q·n⌉ of the sorted samples (nearest-rank). */
function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

const round = (v: number) => Math.round(v * 10) / 10;

function figures(series: Record<'invited' | 'callerFrame' | 'calleeFrame' | 'bare', number[]>): Figure[] {
  const out: Figure[] = [];
  const add = (name: string, value: number, baseline: number | null, limited_by: string) =>
    out.push({
      group: 'browser',
      name,
      value: round(value),
      unit: 'ms',
      baseline: baseline === null ? null : round(baseline),
      ratio: baseline === null ? null : Math.round((value / baseline) * 100) / 100,
      limited_by,
    });
  const quantiles = [
    ['median', 0.5],
    ['p90', 0.9],
  ] as const;
  for (const [label, q] of quantiles) {
    // call() captures the microphone and camera before it sends anything.
    const limit = "caller's getUserMedia + signaling round trip + page event loop";
    add(`call() to INVITED, ${label}`, percentile(series.invited, q), null, limit);
  }
  const sides = [
    ['caller', series.callerFrame],
    ['callee', series.calleeFrame],
  ] as const;
  for (const [side, samples] of sides) {
    for (const [label, q] of quantiles) {
      const limit = "callee's getUserMedia + offer/answer/ICE through the server + first decode";
      add(`accept() to first remote frame at ${side}, ${label}`, percentile(samples, q), percentile(series.bare, q), limit);
    }
  }
  for (const [label, q] of quantiles) {
    add(
      `bare RTCPeerConnection pair, createOffer to first frame, ${label}`,
      percentile(series.bare, q),
      null,
      'ICE/DTLS on loopback + encode/decode',
    );
  }
  return out;
}

function print(rows: Figure[], n: number): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  const cell = (v: number | null, w: number) => (v === null ? '—' : v.toFixed(1)).padStart(w);
  const lines = [
    `call setup over ${n} calls (ms)`,
    `${'figure'.padEnd(width)}  ${'value'.padStart(8)}  ${'baseline'.padStart(8)}  ${'ratio'.padStart(6)}`,
    ...rows.map(
      (r) =>
        `${r.name.padEnd(width)}  ${cell(r.value, 8)}  ${cell(r.baseline, 8)}  ${(r.ratio === null ? '—' : r.ratio.toFixed(2)).padStart(6)}`,
    ),
  ];
  console.log(lines.join('\n'));
}

test('call setup: call() to INVITED and accept() to first frame, against a bare peer connection pair', async ({ browser }) => {
  expect(Number.isInteger(CALLS) && CALLS > 0, `BENCH_CALLS must be a positive whole number, not ${process.env.BENCH_CALLS}`).toBe(true);
  const base = server!.url;
  const caller = await Client.open(browser, base, uniqueId('caller'));
  contexts.push(caller.context);
  const callee = await Client.open(browser, base, uniqueId('callee'));
  contexts.push(callee.context);
  const pageErrors: string[] = [];
  for (const c of [caller, callee]) {
    c.page.on('pageerror', (e) => pageErrors.push(`${c.userId}: ${e.message}`));
  }
  await prepare(caller);
  await prepare(callee);
  const bare = await blankPage(browser, base);

  const series = { invited: [] as number[], callerFrame: [] as number[], calleeFrame: [] as number[], bare: [] as number[] };
  // Calls and bare pairs take turns, so that whatever else the machine is doing weighs on both.
  for (let i = 0; i < CALLS; i++) {
    const t = await timeOneCall(caller, callee);
    series.invited.push(t.invited);
    series.callerFrame.push(t.callerFrame);
    series.calleeFrame.push(t.calleeFrame);
    series.bare.push(await barePair(bare));
  }
  expect(pageErrors, 'uncaught errors in the calling pages').toEqual([]);
  for (const [name, values] of Object.entries(series)) {
    expect(values, name).toHaveLength(CALLS);
    for (const v of values) {
      expect(Number.isFinite(v) && v > 0, `${name}: ${values.join(', ')}`).toBe(true);
    }
  }

  const rows = figures(series);
  print(rows, CALLS);
  for (const [name, values] of Object.entries(series)) {
    console.log(`${name}: ${values.map((v) => v.toFixed(1)).join(' ')}`);
  }
  const out = process.env.BENCH_OUT;
  if (out) {
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileSync(out, JSON.stringify(rows, null, 2) + '\n');
  }
});
