/** Playwright config of the UI-stall bench (bench/ui-stalls.spec.ts): the e2e config, this folder's spec only. */
import { fileURLToPath } from 'node:url';
import { defineConfig } from '@playwright/test';
import base from '../playwright.config';

const root = fileURLToPath(new URL('..', import.meta.url));

export default defineConfig({
  ...base,
  testDir: '.',
  testMatch: 'ui-stalls.spec.ts',
  outputDir: `${root}test-results/stalls`,
  reporter: [['list']],
  // No trace: its DOM snapshots run on the page's main thread and showed up as long tasks of their own.
  use: { ...base.use, trace: 'off' },
  webServer: { ...(base.webServer as object), cwd: root } as typeof base.webServer,
});
