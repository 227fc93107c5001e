import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, preview, type InlineConfig } from 'vite';
import { parseServedManifest } from '../core/model-channels';
import type { ModelManifest } from '../core/model-manifest';
import { IMMUTABLE, NOT_FOUND_BODY } from './model-http';
import { modelsPlugin } from './vite-plugin';
import { expectSecurityHeaders, makeTempDir, SHARED_MODELS_DIR } from '../../test-support/helpers';

let temp: Awaited<ReturnType<typeof makeTempDir>>;
beforeAll(async () => {
  temp = await makeTempDir('vite');
  await mkdir(join(temp.path, 'dist'));
  await writeFile(join(temp.path, 'index.html'), '<!doctype html><title>dev</title>');
  await writeFile(join(temp.path, 'dist', 'index.html'), '<!doctype html><title>built</title>');
});
afterAll(() => temp.remove());

function config(): InlineConfig {
  return {
    root: temp.path,
    configFile: false,
    logLevel: 'silent',
    plugins: [modelsPlugin(SHARED_MODELS_DIR)],
    server: { port: 0, ws: false, watch: null },
    preview: { port: 0 },
    build: { outDir: join(temp.path, 'dist') },
  };
}

/** The same checks against whichever server: both must answer like the Fastify app. */
async function checkServesModels(origin: string): Promise<void> {
  const res = await fetch(`${origin}/models/manifest.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-cache');
  expectSecurityHeaders(Object.fromEntries(res.headers));
  const parsed = parseServedManifest(await res.json());
  if (!parsed.ok) throw new Error(parsed.reason);
  const manifest: ModelManifest = parsed.manifest;
  expect(manifest.models.map((m) => m.id)).toEqual([
    'imagenet-mobilenet-v2',
    'inat-birds-mobilenet-v2',
    'inat-insects-mobilenet-v2',
  ]);

  const entry = manifest.models[1];
  const shard = entry?.files[1];
  if (!entry || !shard) throw new Error('unexpected manifest');
  const file = await fetch(origin + entry.baseUrl + shard.path);
  expect(file.status).toBe(200);
  expect(file.headers.get('cache-control')).toBe(IMMUTABLE);
  expect(file.headers.get('etag')).toBe(`"${shard.sha256}"`);
  expectSecurityHeaders(Object.fromEntries(file.headers));
  const bytes = Buffer.from(await file.arrayBuffer());
  expect(bytes.equals(await readFile(join(SHARED_MODELS_DIR, entry.id, shard.path)))).toBe(true);

  const missing = await fetch(`${origin}${entry.baseUrl}..%2Fsource.json`);
  expect(missing.status).toBe(404);
  expect(await missing.json()).toEqual(NOT_FOUND_BODY);
  expectSecurityHeaders(Object.fromEntries(missing.headers));

  const page = await fetch(`${origin}/`, { headers: { accept: 'text/html' } });
  expect(page.status).toBe(200);
  expectSecurityHeaders(Object.fromEntries(page.headers));
}

describe('modelsPlugin', () => {
  it('serves the models and the isolation headers from the dev server', async () => {
    const server = await createServer(config());
    await server.listen();
    try {
      const origin = server.resolvedUrls?.local[0]?.replace(/\/$/, '');
      if (!origin) throw new Error('no URL');
      await checkServesModels(origin);
    } finally {
      await server.close();
    }
  });

  it('serves the models and the isolation headers from the preview server', async () => {
    const server = await preview(config());
    try {
      const origin = server.resolvedUrls?.local[0]?.replace(/\/$/, '');
      if (!origin) throw new Error('no URL');
      await checkServesModels(origin);
    } finally {
      await server.close();
    }
  });
});
