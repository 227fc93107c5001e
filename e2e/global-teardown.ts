import { rmSync } from 'node:fs';

/** The run's feedback database (see playwright.config.ts) would otherwise pile up in /tmp. */
export default function globalTeardown(): void {
  const dir = process.env.FIELDID_E2E_DATA_DIR;
  if (dir) rmSync(dir, { recursive: true, force: true });
}
