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
import { CAPTURE, FRAME_TIMEOUT, percentile, prepare, print, round, timeOneCall, type Figure } from './setup';

const CALLS = Number(process.env.BENCH_CALLS ?? 20);

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
  print(rows, `call setup over ${CALLS} calls (ms)`);
  for (const [name, values] of Object.entries(series)) {
    console.log(`${name}: ${values.map((v) => v.toFixed(1)).join(' ')}`);
  }
  const out = process.env.BENCH_OUT;
  if (out) {
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileSync(out, JSON.stringify(rows, null, 2) + '\n');
  }
});
