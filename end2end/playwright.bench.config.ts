import { defineConfig } from '@playwright/test';
import suite from './playwright.config';

// Browser benchmarks: they print figures and never assert on speed. The browser and its flags
// are the test suite's. Run inside a network namespace that has only loopback (`make bench`, or
// `make bench-smoke` for a two-call run).
export default defineConfig({
  ...suite,
  testDir: './bench',
  // Twenty calls with their media take a minute or two; a loaded machine may take much longer.
  timeout: 10 * 60_000,
  use: { ...suite.use, screenshot: 'off' },
});
