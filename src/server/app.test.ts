import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_MESSAGES } from '../core/errors';
import { parseServedManifest } from '../core/model-channels';
import type { ModelEntry } from '../core/model-manifest';
import { buildApp } from './app';
import { IMMUTABLE } from './model-http';
import { folderSource } from './model-source';
import { loadModelRegistry, type ModelRegistry } from '../node/model-registry';
import {
  copyModel,
  editFile,
  expectSecurityHeaders,
  makeTempDir,
  SHARED_MODELS_DIR,
} from '../../test-support/helpers';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const NOT_FOUND = { error: { code: 'NOT_FOUND', message: ERROR_MESSAGES.NOT_FOUND } };
const METRICS_TOKEN = 'metrics-token-for-the-tests-0123456789';
const INTERNAL = { error: { code: 'INTERNAL', message: ERROR_MESSAGES.INTERNAL } };

let registry: ModelRegistry;
let imagenet: ModelEntry;
beforeAll(async () => {
  registry = await loadModelRegistry(SHARED_MODELS_DIR);
  imagenet = registry.manifest.models[0] as ModelEntry;
});

describe('without a build (API and models only)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = buildApp(
      { distDir: '/nonexistent/dist', logLevel: 'silent' },
      { models: folderSource(registry) },
    );
    // Routes that exist only to exercise the error handler.
    app.get('/test/crash', async () => {
      throw new Error('secret database password in this message');
    });
    app.get('/test/teapot', async () => {
      throw Object.assign(new Error('I am a teapot'), { statusCode: 418, code: 'TEAPOT' });
    });
    await app.ready();
  });
  afterAll(() => app.close());

  it('serves the manifest, uncached, parseable, with the three models', async () => {
    const res = await app.inject('/models/manifest.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expectSecurityHeaders(res.headers);
    const parsed = parseServedManifest(res.json());
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.manifest.defaultModel).toBe('imagenet-mobilenet-v2');
    expect(parsed.manifest.models.map((m) => [m.id, m.output.classes])).toEqual([
      ['imagenet-mobilenet-v2', 1001],
      ['inat-birds-mobilenet-v2', 965],
      ['inat-insects-mobilenet-v2', 1022],
    ]);

    const again = await app.inject({
      url: '/models/manifest.json?x=1',
      headers: { 'if-none-match': String(res.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('serves every listed file with the bytes on disk, immutable, its sha256 as ETag', async () => {
    for (const entry of registry.manifest.models) {
      for (const file of entry.files) {
        const res = await app.inject(entry.baseUrl + file.path);
        const onDisk = await readFile(join(SHARED_MODELS_DIR, entry.id, file.path));
        expect(res.statusCode).toBe(200);
        expect(res.rawPayload.equals(onDisk)).toBe(true);
        expect(sha256(res.rawPayload)).toBe(file.sha256);
        expect(res.headers['content-length']).toBe(String(file.bytes));
        expect(res.headers.etag).toBe(`"${file.sha256}"`);
        expect(res.headers['cache-control']).toBe(IMMUTABLE);
        expectSecurityHeaders(res.headers);
      }
    }
  });

  it('sends the right content types, answers HEAD and If-None-Match', async () => {
    const url = (path: string) => imagenet.baseUrl + path;
    const types = await Promise.all(
      ['model.json', 'group1-shard1of1.bin', 'labels.txt'].map(
        async (path) => (await app.inject(url(path))).headers['content-type'],
      ),
    );
    expect(types).toEqual([
      'application/json; charset=utf-8',
      'application/octet-stream',
      'text/plain; charset=utf-8',
    ]);

    const head = await app.inject({ method: 'HEAD', url: url('group1-shard1of1.bin') });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('3543276');
    expect(head.rawPayload.length).toBe(0);
    const headManifest = await app.inject({ method: 'HEAD', url: '/models/manifest.json' });
    expect(headManifest.headers['content-length']).toBe(
      String((await app.inject('/models/manifest.json')).rawPayload.length),
    );

    const shard = imagenet.files[1];
    const cached = await app.inject({
      url: url('group1-shard1of1.bin'),
      headers: { 'if-none-match': `"${shard?.sha256}"` },
    });
    expect(cached.statusCode).toBe(304);
    expect(cached.rawPayload.length).toBe(0);
    expectSecurityHeaders(cached.headers);
  });

  it.each([
    ['unknown id', '/models/nope/0123456789/model.json'],
    ['unknown version', '/models/imagenet-mobilenet-v2/0123456789/model.json'],
    ['unlisted file', '{base}source.json'],
    ['unknown file', '{base}nope.bin'],
    ['extra segment', '{base}model.json/x'],
    ['encoded traversal', '{base}..%2F..%2FREADME.md'],
    ['encoded dots and slashes', '{base}%2E%2E%2F%2E%2E%2Ftflite%2FLICENSE'],
    ['raw traversal', '{base}../../README.md'],
    ['encoded slash in the id', '/models/imagenet-mobilenet-v2%2F{version}/model.json'],
    ['traversal as the id', '/models/..%2F..%2Fmain%2Fpackage.json'],
    ['the folder itself', '/models'],
    ['the folder with a slash', '/models/'],
  ])('answers 404 JSON for %s', async (_name, pattern) => {
    const url = pattern.replace('{base}', imagenet.baseUrl).replace('{version}', imagenet.version);
    const res = await app.inject({ url, headers: { accept: 'text/html' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual(NOT_FOUND);
    expectSecurityHeaders(res.headers);
  });

  it('answers 400 JSON for a malformed URL, without quoting it', async () => {
    const res = await app.inject(imagenet.baseUrl + 'secret-in-url%E0%A4%A');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: { code: 'BAD_REQUEST', message: ERROR_MESSAGES.BAD_REQUEST, detail: 'malformed URL' },
    });
    expect(res.body).not.toContain('secret-in-url');
    expectSecurityHeaders(res.headers);
  });

  // Fastify's own answers quote the request ("Route GET:/x not found", "'/x%' is not a
  // valid url component"): none of that may reach a client.
  it.each([
    ['an unknown method', { method: 'PROPFIND', url: '/secret-in-url' }],
    ['an unknown path', { method: 'GET', url: '/secret-in-url?secret-in-query=1' }],
    ['a malformed URL', { method: 'GET', url: '/secret-in-url%E0%A4%A' }],
    ['a GET of the feedback route', { method: 'GET', url: '/api/v1/feedback?secret-in-query=1' }],
    [
      'a body of the wrong type',
      {
        method: 'POST',
        url: '/api/v1/feedback?secret-in-query=1',
        headers: { 'content-type': 'text/secret-in-type' },
        payload: 'secret-in-body',
      },
    ],
    [
      'bad JSON',
      {
        method: 'POST',
        url: '/api/v1/feedback',
        headers: { 'content-type': 'application/json' },
        payload: '{"secret-in-body": ',
      },
    ],
  ] as const)('quotes nothing of %s in its error body', async (_name, req) => {
    const res = await app.inject(req);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.json()).toMatchObject({
      error: { code: expect.any(String), message: expect.any(String) },
    });
    expect(res.body).not.toMatch(/secret|PROPFIND|Route |url component/);
  });

  it('answers 404 for other methods under /models and for routes that do not exist', async () => {
    for (const req of [
      { method: 'POST', url: '/models/manifest.json' },
      { method: 'DELETE', url: imagenet.baseUrl + 'model.json' },
      { method: 'GET', url: '/api/v1/nothing' },
      { method: 'GET', url: '/' },
    ] as const) {
      const res = await app.inject({ ...req, headers: { accept: 'text/html' } });
      expect(res.statusCode, `${req.method} ${req.url}`).toBe(404);
      expect(res.json()).toEqual(NOT_FOUND);
      expectSecurityHeaders(res.headers);
    }
  });

  it('reports health', async () => {
    const res = await app.inject('/healthz');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
    expectSecurityHeaders(res.headers);
  });

  it('hides the details of a 5xx, and keeps the status of a 4xx but not its message', async () => {
    const crash = await app.inject('/test/crash');
    expect(crash.statusCode).toBe(500);
    expect(crash.json()).toEqual(INTERNAL);
    expectSecurityHeaders(crash.headers);

    // Another library's message may quote the request; only our own messages go out.
    const teapot = await app.inject('/test/teapot');
    expect(teapot.statusCode).toBe(418);
    expect(teapot.json()).toEqual({
      error: { code: 'BAD_REQUEST', message: ERROR_MESSAGES.BAD_REQUEST },
    });
  });
});

describe('with a build in DIST_DIR', () => {
  let app: FastifyInstance;
  let temp: Awaited<ReturnType<typeof makeTempDir>>;
  const INDEX = '<!doctype html><title>FieldID</title>';
  beforeAll(async () => {
    temp = await makeTempDir('dist');
    await mkdir(join(temp.path, 'assets'));
    await writeFile(join(temp.path, 'index.html'), INDEX);
    await writeFile(join(temp.path, 'sw.js'), 'self.skipWaiting();');
    await writeFile(join(temp.path, 'sw.js.map'), '{"sources":["src/sw/sw.ts"]}');
    await writeFile(join(temp.path, 'assets', 'index-a1b2c3.js'), 'console.log(1);');
    await writeFile(join(temp.path, 'assets', 'index-a1b2c3.js.map'), '{"sources":[]}');
    await writeFile(join(temp.path, 'assets', 'tfjs-backend-wasm-d4e5f6.wasm'), 'wasm');
    app = buildApp({ distDir: temp.path, logLevel: 'silent' }, { models: folderSource(registry) });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await temp.remove();
  });

  it.each([
    ['/', 'text/html; charset=utf-8', 'no-cache'],
    ['/index.html', 'text/html; charset=utf-8', 'no-cache'],
    ['/sw.js', 'application/javascript; charset=utf-8', 'no-cache'],
    ['/assets/index-a1b2c3.js', 'application/javascript; charset=utf-8', IMMUTABLE],
    ['/assets/tfjs-backend-wasm-d4e5f6.wasm', 'application/wasm', IMMUTABLE],
  ])('serves %s as %s, Cache-Control %s', async (url, type, cacheControl) => {
    const res = await app.inject(url);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['cache-control']).toBe(cacheControl);
    expectSecurityHeaders(res.headers);
  });

  it('falls back to index.html for navigations only', async () => {
    const nav = await app.inject({ url: '/history/42?tab=map', headers: { accept: 'text/html' } });
    expect(nav.statusCode).toBe(200);
    expect(nav.body).toBe(INDEX);
    expect(nav.headers['cache-control']).toBe('no-cache');
    expectSecurityHeaders(nav.headers);

    for (const req of [
      { method: 'GET', url: '/history', headers: { accept: 'application/json' } },
      { method: 'GET', url: '/assets/missing.js', headers: { accept: '*/*' } },
      { method: 'POST', url: '/history', headers: { accept: 'text/html' } },
      { method: 'GET', url: '/api/v1/nothing', headers: { accept: 'text/html' } },
      { method: 'GET', url: '/api', headers: { accept: 'text/html' } },
      { method: 'GET', url: '/models/nope', headers: { accept: 'text/html' } },
      { method: 'GET', url: '/models', headers: { accept: 'text/html' } },
    ] as const) {
      const res = await app.inject(req);
      expect(res.statusCode, `${req.method} ${req.url}`).toBe(404);
      expect(res.json()).toEqual(NOT_FOUND);
    }
  });

  it.each(['/sw.js.map', '/assets/index-a1b2c3.js.map', '/sw.js.m%61p', '/SW.JS.MAP'])(
    'does not serve the source map %s',
    async (url) => {
      const res = await app.inject({ url, headers: { accept: '*/*' } });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual(NOT_FOUND);
      // A navigation gets the app or a 404, never the map.
      const nav = await app.inject({ url, headers: { accept: 'text/html' } });
      expect(nav.body).not.toContain('"sources"');
    },
  );

  it('still serves the models and health next to the static files', async () => {
    expect((await app.inject('/models/manifest.json')).statusCode).toBe(200);
    expect((await app.inject(imagenet.baseUrl + 'labels.txt')).statusCode).toBe(200);
    expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });
  });
});

describe('a model changed on disk after start-up', () => {
  it('is not served under its old version', async () => {
    const temp = await makeTempDir('models');
    try {
      const dir = await copyModel(temp.path, 'inat-birds-mobilenet-v2');
      const copy = await loadModelRegistry(temp.path);
      const app = buildApp(
        { distDir: '/nonexistent', logLevel: 'silent' },
        { models: folderSource(copy) },
      );
      const url = `${copy.manifest.models[0]?.baseUrl}labels.txt`;
      expect((await app.inject(url)).statusCode).toBe(200);

      await editFile(join(dir, 'labels.txt'), (text) => `${text}extra\n`);
      const res = await app.inject(url);
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual(INTERNAL);
      // Nothing a cache would keep for a year under the old file's etag.
      expect(res.headers['cache-control']).not.toBe(IMMUTABLE);
      expect(res.headers.etag).toBeUndefined();
      const head = await app.inject({ method: 'HEAD', url });
      expect(head.statusCode).toBe(500);
      expect(head.headers.etag).toBeUndefined();
      await app.close();
    } finally {
      await temp.remove();
    }
  });
});

describe('the OpenAPI document', () => {
  it('lists every route the server answers, each method of it', async () => {
    const temp = await makeTempDir('dist');
    const routes: string[] = [];
    const app = buildApp(
      {
        distDir: temp.path,
        logLevel: 'silent',
        metricsToken: METRICS_TOKEN,
        feedback: { exportToken: 'e'.repeat(32) },
      },
      { models: folderSource(registry) },
    );
    try {
      app.addHook('onRoute', ({ method, url }) => {
        for (const one of [method].flat()) routes.push(`${one} ${url}`);
      });
      await app.ready();
      const doc = (await app.inject('/api/v1/openapi.json')).json();
      const documented = new Set(
        Object.entries(doc.paths as Record<string, object>).flatMap(([path, operations]) =>
          Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
        ),
      );
      const inDocument = (route: string) => {
        const [method = '', url = ''] = route.split(' ');
        const path = url.replace(/:(\w+)/g, '{$1}');
        // HEAD is GET without the body (RFC 9110): documented with it.
        return (
          documented.has(`${method} ${path}`) ||
          (method === 'HEAD' && documented.has(`GET ${path}`))
        );
      };
      expect(routes).toEqual(
        expect.arrayContaining([
          'GET /healthz',
          'GET /metrics',
          'GET /api/v1/openapi.json',
          'GET /models/manifest.json',
          'GET /models/:id/:version/:file',
          'POST /api/v1/feedback',
          'GET /api/v1/feedback/export',
        ]),
      );
      // The built app's files are not an API: the one route left out, on purpose.
      expect(routes.filter((route) => !inDocument(route)).sort()).toEqual(['GET /*', 'HEAD /*']);
      expect(doc.paths['/metrics'].get.security).toEqual([{ bearer: [] }]);
    } finally {
      await app.close();
      await temp.remove();
    }
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  it('answers only a bearer of the token', async () => {
    const app = buildApp(
      { distDir: '/nonexistent', logLevel: 'silent', metricsToken: METRICS_TOKEN },
      { models: folderSource(registry) },
    );
    try {
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${METRICS_TOKEN}x`]) {
        const res = await app.inject({
          url: '/metrics',
          headers: authorization ? { authorization } : {},
        });
        expect(res.statusCode).toBe(401);
        expect(res.headers['www-authenticate']).toBe('Bearer');
        expect(res.json().error.code).toBe('UNAUTHORIZED');
        expect(res.body).not.toContain('fieldid_');
      }
      const res = await app.inject({
        url: '/metrics',
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('fieldid_http_requests_total');
    } finally {
      await app.close();
    }
  });
});
