// Starts the real server binary on a fresh database and a free loopback port, and gives tests
// helpers that act as a person would: through labels and roles.
import { test as base, expect, type Page, type APIRequestContext } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SERVER_BIN = process.env.CALLING_SERVER_BIN ?? path.join(ROOT, 'target', 'debug', 'server');
export const SECRET_KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
export const SDK_APP_ID = 1400000000;
export const PASSWORD = 'correct horse battery';

export class Server {
  private constructor(
    readonly url: string,
    private readonly proc: ChildProcess,
  ) {}

  /**
   * Starts the server on `dataDir`'s database; resolves once it is listening. `netns` runs it
   * inside that network namespace.
   */
  static start(dataDir: string, env: Record<string, string> = {}, netns?: string): Promise<Server> {
    const [bin, args]: [string, string[]] = netns ? ['ip', ['netns', 'exec', netns, SERVER_BIN]] : [SERVER_BIN, []];
    const proc = spawn(bin, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        LEPTOS_SITE_ADDR: '127.0.0.1:0',
        LEPTOS_SITE_ROOT: path.join(ROOT, 'target', 'site'),
        LEPTOS_SITE_PKG_DIR: 'pkg',
        LEPTOS_OUTPUT_NAME: 'calling',
        LEPTOS_WASM_OUTPUT_NAME: 'calling',
        LEPTOS_ENV: 'PROD',
        DATABASE_URL: `sqlite://${dataDir}/calling.db`,
        CALLING_SECRET_KEY: SECRET_KEY,
        CALLING_SDK_APP_ID: String(SDK_APP_ID),
        CALLING_TURN_LISTEN: '127.0.0.1:0',
        RUST_LOG: 'warn,server=info,stun_proto::auth=off',
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Promise((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        const m = log.match(/serving on (https?:\/\/[\w.:\[\]-]+)/);
        if (m) {
          clearTimeout(timer);
          resolve(new Server(m[1], proc));
        }
      };
      proc.stdout!.on('data', onData);
      proc.stderr!.on('data', (c: Buffer) => {
        log += c.toString();
        process.stderr.write(c);
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${log}`));
      });
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }
}

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'calling-e2e-'));
}

let counter = 0;
/** A user ID no other test uses. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}_${Date.now().toString(36)}${counter}`;
}

type WorkerFixtures = { server: Server };

export const test = base.extend<{ pageErrors: string[] }, WorkerFixtures>({
  server: [
    async ({}, use) => {
      const dir = tempDir();
      const server = await Server.start(dir);
      await use(server);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
  // Uncaught errors in the page (a Wasm panic among them) fail the test.
  pageErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await use(errors);
      expect(errors, 'uncaught errors in the page').toEqual([]);
    },
    { auto: true },
  ],
});
export { expect };

/** Creates an account without a browser, for tests about something else. */
export async function register(request: APIRequestContext, base: string, userId: string): Promise<void> {
  const r = await request.post(`${base}/auth/register`, {
    form: { user_id: userId, password: PASSWORD },
    maxRedirects: 0,
  });
  expect(r.status()).toBe(303);
  expect(r.headers()['location']).toBe('/');
}

export async function fillAuthForm(page: Page, userId: string, password: string): Promise<void> {
  await page.getByLabel('User ID', { exact: true }).fill(userId);
  await page.getByLabel('Password', { exact: true }).fill(password);
}

export async function signUp(page: Page, base: string, userId: string, password = PASSWORD) {
  await page.goto(`${base}/register`);
  await fillAuthForm(page, userId, password);
  await page.getByRole('button', { name: 'Create account' }).click();
}

export async function signIn(page: Page, base: string, userId: string, password = PASSWORD) {
  await page.goto(`${base}/login`);
  await fillAuthForm(page, userId, password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** The home page is showing `userId`'s contacts, and the Wasm has taken over the page. */
export async function expectHome(page: Page, base: string, userId: string) {
  await expect(page).toHaveURL(`${base}/`);
  await expect(page.getByText(`Signed in as ${userId}`)).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Contacts' })).toBeVisible();
  await expect(page.locator('html[data-hydrated]')).toBeAttached();
}
