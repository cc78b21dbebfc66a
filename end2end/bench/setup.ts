// What the browser benchmarks share: a client armed to stamp INVITED and its first remote frame,
// one timed call, percentiles and the printed table. See call-setup.spec.ts for what the stamps
// mean.
import { expect } from '@playwright/test';
import type { Client } from '../tests/calling';

/** The fake camera is one device for the whole browser, so everyone asks for the same size. */
const QUALITY = '480p';
/** What the engine asks getUserMedia for at '480p'. */
export const CAPTURE = { width: { ideal: 640 }, height: { ideal: 480 } };
/** The element each side renders the other's video into, made afresh for every call. */
const VIEW = 'bench-remote';
export const FRAME_TIMEOUT = 20_000;

export type Figure = {
  group: 'browser';
  name: string;
  value: number;
  unit: 'ms';
  baseline: number | null;
  ratio: number | null;
  limited_by: string;
};

/**
 * Gets a logged-in client ready for timing: INVITED is stamped the moment it arrives, and on
 * USER_ENTER the page shows the newcomer's video, as an application would. `bench.arm()` makes
 * a fresh view element and stamps the first frame of the <video> the engine puts into it.
 */
export async function prepare(client: Client): Promise<void> {
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
export async function arm(client: Client): Promise<void> {
  await client.page.evaluate(() => {
    const w = window as any;
    w.events = [];
    w.bench.arm();
  });
}

export async function firstFrameAt(client: Client): Promise<number> {
  const handle = await client.page.waitForFunction(() => (window as any).bench.firstFrameAt, null, {
    timeout: FRAME_TIMEOUT,
  });
  return (await handle.jsonValue()) as number;
}

export type CallTimes = { invited: number; callerFrame: number; calleeFrame: number };

/** One video call from `caller` to `callee`, accepted, shown on both sides and hung up. */
export async function timeOneCall(caller: Client, callee: Client): Promise<CallTimes> {
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

/** The value at rank ⌈q·n⌉ of the sorted samples (nearest-rank). */
export function percentile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1];
}

export const round = (v: number) => Math.round(v * 10) / 10;

export function print(rows: Figure[], title: string): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  const cell = (v: number | null, w: number) => (v === null ? '—' : v.toFixed(1)).padStart(w);
  const lines = [
    title,
    `${'figure'.padEnd(width)}  ${'value'.padStart(8)}  ${'baseline'.padStart(8)}  ${'ratio'.padStart(6)}`,
    ...rows.map(
      (r) =>
        `${r.name.padEnd(width)}  ${cell(r.value, 8)}  ${cell(r.baseline, 8)}  ${(r.ratio === null ? '—' : r.ratio.toFixed(2)).padStart(6)}`,
    ),
  ];
  console.log(lines.join('\n'));
}

