import { defineConfig } from '@playwright/test';

// Browser benchmarks: they print figures and never assert on speed. Run inside a network
// namespace that has only loopback, from the repository root after a debug build:
//   unshare --net sh -c 'ip link set lo up && cd end2end && BENCH_CALLS=20 BENCH_OUT=/tmp/callsetup.json \
//     npx playwright test -c playwright.bench.config.ts'
export default defineConfig({
  testDir: './bench',
  // Twenty calls with their media take a minute or two; a loaded machine may take much longer.
  timeout: 10 * 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  // Timings only mean something when nothing else runs in the browser.
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        '--allow-loopback-in-peer-connection',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-gpu',
      ],
    },
    trace: 'retain-on-failure',
  },
});
