// Drives `window.TRTCCalling` in real pages, one browser context per user.
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { expect, SECRET_KEY, SDK_APP_ID } from './support';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const TLSSigAPIv2 = require('tls-sig-api-v2');

const signer = new TLSSigAPIv2.Api(SDK_APP_ID, SECRET_KEY);

export type Recorded = { name: string; payload: any };

export class Client {
  constructor(
    readonly userId: string,
    readonly context: BrowserContext,
    readonly page: Page,
  ) {}

  /** Opens the site, creates a TRTCCalling that records every event, and logs in. */
  static async open(browser: Browser, base: string, userId: string): Promise<Client> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/login`);
    await page.waitForFunction(() => typeof (window as any).TRTCCalling === 'function');
    const client = new Client(userId, context, page);
    await page.evaluate(
      async ({ userId, userSig, sdkAppId }) => {
        const w = window as any;
        const calling = new w.TRTCCalling({ SDKAppID: sdkAppId });
        w.events = [];
        // Recorded under the EVENT key ('INVITED'); listening by the value ('onInvited'), once
        // per value (CALL_END and CALLING_END are one event).
        const seen = new Set<string>();
        for (const [name, value] of Object.entries(w.TRTCCalling.EVENT) as [string, string][]) {
          if (seen.has(value)) continue;
          seen.add(value);
          calling.on(value, (payload: any) => w.events.push({ name, payload }));
        }
        w.calling = calling;
        for (const id of ['local', 'remote-1', 'remote-2', 'remote-3']) {
          const div = document.createElement('div');
          div.id = id;
          div.style.width = '160px';
          div.style.height = '120px';
          document.body.appendChild(div);
        }
        await calling.login({ userID: userId, userSig });
      },
      { userId, userSig: signer.genUserSig(userId, 3600), sdkAppId: SDK_APP_ID },
    );
    return client;
  }

  /** Runs `method(arg)` on the page's TRTCCalling; resolves with its result or `{error: {code, message}}`. */
  async invoke(method: string, arg?: unknown): Promise<any> {
    return this.page.evaluate(
      async ({ method, arg }) => {
        const c = (window as any).calling;
        try {
          const r = await c[method](arg);
          return { ok: r === undefined ? null : r };
        } catch (e: any) {
          return { error: { code: e.code, message: e.message, isError: e instanceof Error } };
        }
      },
      { method, arg },
    );
  }

  async events(name?: string): Promise<Recorded[]> {
    const all: Recorded[] = await this.page.evaluate(() => (window as any).events);
    return name ? all.filter((e) => e.name === name) : all;
  }

  /** Waits for an event named `name` whose payload matches `fields`, and returns its payload. */
  async waitFor(name: string, fields: Record<string, unknown> = {}, timeout = 15_000): Promise<any> {
    const handle = await this.page.waitForFunction(
      ({ name, fields }) =>
        (window as any).events.find(
          (e: any) => e.name === name && Object.entries(fields).every(([k, v]) => JSON.stringify(e.payload[k]) === JSON.stringify(v)),
        )?.payload,
      { name, fields },
      { timeout },
    );
    return handle.jsonValue();
  }

  /** Waits for INVITED and accepts it with the spec's arguments. */
  async acceptNext(): Promise<void> {
    const invite = await this.waitFor('INVITED');
    const r = await this.invoke('accept', {
      inviteID: invite.inviteID,
      roomID: invite.inviteData.roomID,
      callType: invite.inviteData.callType,
    });
    expect(r.error, JSON.stringify(r.error)).toBeUndefined();
  }

  /** The remote video in `#domId` is playing: it has a size and its frames advance. */
  async expectVideoPlaying(domId: string): Promise<void> {
    await this.page.waitForFunction(
      (id) => {
        const v = document.querySelector(`#${id} video`) as HTMLVideoElement | null;
        return !!v && v.videoWidth > 0 && v.readyState >= 2;
      },
      domId,
      { timeout: 20_000 },
    );
    const frames = () =>
      this.page.evaluate((id) => {
        const v = document.querySelector(`#${id} video`) as HTMLVideoElement;
        return v.getVideoPlaybackQuality().totalVideoFrames;
      }, domId);
    const before = await frames();
    await expect.poll(frames, { timeout: 10_000 }).toBeGreaterThan(before + 5);
  }

  /** Audio packets from `userId` keep arriving. */
  async expectAudioFrom(userId: string): Promise<void> {
    const packets = async () => (await this.invoke('getStats', userId)).ok?.audioPacketsReceived ?? 0;
    await expect.poll(packets, { timeout: 15_000 }).toBeGreaterThan(0);
    const before = await packets();
    await expect.poll(packets, { timeout: 10_000 }).toBeGreaterThan(before);
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
