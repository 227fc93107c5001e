import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

/** e2e runs against the production build served by the real server (`npm run build` first). */
const PORT = Number(process.env.E2E_PORT ?? 4180);

/**
 * A fresh feedback database per run, read back by the tests through the export API, in a
 * directory the server creates and the global teardown removes with the database's -wal
 * and -shm files. Kept in the environment because this file is loaded again in every
 * worker (and by the bench), which must name the runner's directory, not one of its own.
 */
process.env.FIELDID_E2E_DATA_DIR ??= path.join(os.tmpdir(), `fieldid-e2e-${process.pid}`);
const SQLITE_PATH = path.join(process.env.FIELDID_E2E_DATA_DIR, 'feedback.sqlite');
export const E2E_EXPORT_TOKEN = 'e2e-export-token-0123456789abcdef0123456789';

export const CHROMIUM_EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

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

/**
 * An init script that pins a backend the way a user would in Settings (the app's persisted
 * settings), so no idle-time backend trial competes for the CPU. A user's own choice wins.
 */
export function pinBackendScript(backend: string): { content: string } {
  const settings = JSON.stringify({
    state: { modelId: null, backendPreference: backend },
    version: 1,
  });
  return {
    content: `if (localStorage.getItem('fieldid-settings') === null) localStorage.setItem('fieldid-settings', ${JSON.stringify(settings)});`,
  };
}

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
  globalTeardown: './e2e/global-teardown.ts',
  use: {
    baseURL: `http://localhost:${PORT}`,
    launchOptions: {
      executablePath: CHROMIUM_EXECUTABLE,
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
      SQLITE_PATH,
      // The registry's model files go with the run's database, never into ./data.
      MODEL_STORE_DIR: path.join(process.env.FIELDID_E2E_DATA_DIR, 'models'),
      // A developer's PostgreSQL must not receive (or answer for) the tests' feedback.
      DATABASE_URL: '',
      FEEDBACK_EXPORT_TOKEN: E2E_EXPORT_TOKEN,
    },
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
