import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

/** e2e runs against the production build served by the real server (`npm run build` first). */
const PORT = Number(process.env.E2E_PORT ?? 4180);

/** A fresh feedback database per run, read back by the tests through the export API. */
export const E2E_SQLITE_PATH = path.join(os.tmpdir(), `fieldid-e2e-${process.pid}.sqlite`);
export const E2E_EXPORT_TOKEN = 'e2e-export-token-0123456789abcdef0123456789';

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
    env: {
      PORT: String(PORT),
      LOG_LEVEL: 'warn',
      SQLITE_PATH: E2E_SQLITE_PATH,
      FEEDBACK_EXPORT_TOKEN: E2E_EXPORT_TOKEN,
    },
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
