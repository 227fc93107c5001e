import { defineConfig } from '@playwright/test';

/** e2e runs against the production build served by the real server (`npm run build` first). */
const PORT = Number(process.env.E2E_PORT ?? 4180);

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
];

export default defineConfig({
  testDir: 'e2e',
  // Inference is real (wasm on 2 cores), so tests take seconds, not milliseconds.
  timeout: 180_000,
  expect: { timeout: 60_000 },
  // One browser at a time: parallel pages would fight over the same two cores.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: 'node --import tsx src/server/server.ts',
    url: `http://localhost:${PORT}/healthz`,
    env: { PORT: String(PORT), LOG_LEVEL: 'warn' },
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
