import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { SECURITY_HEADERS } from '../src/server/model-http';
import { DEFAULT_MODELS_DIR } from '../src/node/shared-paths';

/** The real models, read-only: tests copy them before changing anything. */
export const SHARED_MODELS_DIR = DEFAULT_MODELS_DIR;

export async function makeTempDir(
  prefix: string,
): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `fieldid-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/**
 * Copies (never hard-links: a write through a link would change the shared file) model
 * folders into `dir`, optionally under another name.
 */
export async function copyModel(dir: string, id: string, as = id): Promise<string> {
  const target = join(dir, as);
  await cp(join(SHARED_MODELS_DIR, id), target, { recursive: true });
  await Promise.all(
    ['labels.txt', 'model.json', 'source.json'].map((f) => chmod(join(target, f), 0o644)),
  );
  return target;
}

export async function editFile(path: string, edit: (text: string) => string): Promise<void> {
  await writeFile(path, edit(await readFile(path, 'utf8')));
}

export function expectSecurityHeaders(headers: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(headers[name]).toBe(value);
}
