import { createReadStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BackendName } from '../src/core/backend-choice';
import { MICRO_BATCH } from '../src/model/engine';
import { DATA_DIR, PROJECT_ROOT } from '../src/node/shared-paths';
import { buildApp } from '../src/server/app';
import { loadConfig } from '../src/server/config';
import { folderSource } from '../src/server/model-source';
import { loadModelRegistry } from '../src/node/model-registry';
import { runBrowserBench, type PhotoRef } from './bench-browser';
import { benchFeedback } from './bench-feedback';
import { runNodeBench } from './bench-node';
import { runOfflineBench, type TrafficCounter } from './bench-offline';
import { formatReport, round, targets, type BenchReport } from './bench-report';
import { expandPaths } from '../src/cli/classify-files';

/**
 * npm run bench: builds (in the npm script), serves the production build with the real
 * server in this process, measures in headless Chromium and in Node, and prints one JSON
 * report on stdout (progress goes to stderr). Also written to bench-results/latest.json.
 */

const IMAGENET_DIR = path.join(DATA_DIR, 'imagenet-animals');
const BIRDS_DIR = path.join(DATA_DIR, 'birds-cub');
const RESULTS_FILE = path.join(PROJECT_ROOT, 'bench-results/latest.json');
const PHOTO_ROUTE = '/__bench/photos/';

/** wasm is fast enough for real sample sizes; the software GPUs and cpu take seconds per photo. */
const WASM_BATCH1_PHOTOS = 30;
const WASM_BATCH8_REQUESTS = 4;
const SLOW_BATCH1_PHOTOS = 3;
const SLOW_BATCH8_REQUESTS = 1;
/** Requests of the worker's own micro-batch size. */
const BATCH_SIZE = MICRO_BATCH;
const END_TO_END_PHOTOS = 20;
const LONG_TASK_PHOTOS = 100;
const MEMORY_PHOTOS = 500;

const started = Date.now();
/** Other work on the machine skews every figure; the report says how busy it was. */
const loadAtStart = os.loadavg().map((l) => round(l, 2));
function log(message: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(0).padStart(3);
  process.stderr.write(`[bench +${seconds}s] ${message}\n`);
}

/** `count` files spread evenly over `files`, so no one class or source dominates. */
function spread(files: string[], count: number): string[] {
  return Array.from(
    { length: Math.min(count, files.length) },
    (_, i) => files[Math.floor((i * files.length) / count)]!,
  );
}

async function main(): Promise<void> {
  const parsed = loadConfig();
  if (!parsed.ok) throw new Error(`invalid environment: ${parsed.reason}`);
  const { config } = parsed;
  if (!existsSync(path.join(config.distDir, 'bench.html'))) {
    throw new Error(`${config.distDir}/bench.html is missing: run "npm run build" first`);
  }
  const imagenet = await expandPaths([IMAGENET_DIR]);
  const birds = await expandPaths([BIRDS_DIR]);
  const labPhotos = spread(imagenet, WASM_BATCH1_PHOTOS);
  const memoryPhotos = [...imagenet, ...birds].slice(0, MEMORY_PHOTOS);

  // The real app, plus one read-only route that serves the chosen photos to bench.html.
  const registry = await loadModelRegistry(config.modelsDir);
  // Silent: Fastify's logger writes to stdout, which carries the report; errors come below.
  const app = buildApp(
    { distDir: config.distDir, logLevel: 'silent' },
    { models: folderSource(registry) },
  );
  const served = new Map(
    [...new Set([...labPhotos, ...memoryPhotos])].map((file) => [
      path.relative(DATA_DIR, file).split(path.sep).join('/'),
      file,
    ]),
  );
  const serverErrors: string[] = [];
  // Bytes the server sent, as the network saw them: what a visit costs a metered phone.
  let traffic = { requests: 0, bytes: 0, paths: new Set<string>() };
  const counter: TrafficCounter = {
    reset: () => (traffic = { requests: 0, bytes: 0, paths: new Set<string>() }),
    read: () => ({
      requests: traffic.requests,
      bytes: traffic.bytes,
      paths: [...traffic.paths].sort(),
    }),
  };
  app.addHook('onResponse', async (request, reply) => {
    if (request.url.startsWith(PHOTO_ROUTE)) return;
    traffic.requests++;
    traffic.bytes += Number(reply.getHeader('content-length') ?? 0);
    traffic.paths.add(request.url.split('?')[0]!);
  });
  app.addHook('onError', async (request, _reply, error) => {
    serverErrors.push(`${request.method} ${request.url}: ${error.message}`);
  });
  app.get(`${PHOTO_ROUTE}*`, async (request, reply) => {
    const file = served.get((request.params as { '*': string })['*']);
    if (file === undefined) return reply.callNotFound();
    reply.header('content-type', 'image/jpeg').header('cache-control', 'no-store');
    return reply.send(createReadStream(file));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  log(`serving ${config.distDir} on ${baseUrl}`);

  const toRef = (file: string): PhotoRef => ({
    file,
    url:
      PHOTO_ROUTE + path.relative(DATA_DIR, file).split(path.sep).map(encodeURIComponent).join('/'),
  });

  const fatal: string[] = [];
  /** One part of the bench: a part that throws is reported, and the others still run. */
  async function part<T>(name: string, run: () => Promise<T>): Promise<T | null> {
    try {
      return await run();
    } catch (error) {
      fatal.push(`${name}: ${String(error)}`);
      log(`${name} part failed: ${String(error)}`);
      return null;
    }
  }

  const browser = await part('browser', () =>
    runBrowserBench({
      baseUrl,
      photos: labPhotos.map(toRef),
      counts: (backend: BackendName) =>
        backend === 'wasm'
          ? { batch1Photos: WASM_BATCH1_PHOTOS, batch8Requests: WASM_BATCH8_REQUESTS }
          : { batch1Photos: SLOW_BATCH1_PHOTOS, batch8Requests: SLOW_BATCH8_REQUESTS },
      batchSize: BATCH_SIZE,
      referenceBackend: 'wasm',
      endToEndPhotos: END_TO_END_PHOTOS,
      longTaskPhotos: spread(imagenet, LONG_TASK_PHOTOS),
      memoryPhotos,
      log,
    }),
  );
  const offline = await part('offline', () => {
    const [a, b, c] = spread(imagenet, 3);
    return runOfflineBench({ baseUrl, photos: [a!, b!, c!], traffic: counter, log });
  });
  await app.close();

  // After the browser is gone, so the CLI has both cores to itself.
  const node = await part('node', () =>
    runNodeBench({
      registry,
      photoDir: IMAGENET_DIR,
      batchSizes: [1, BATCH_SIZE],
      commandBatchSize: BATCH_SIZE,
      log,
    }),
  );

  const feedback = await part('feedback', () => {
    log('feedback API under load (autocannon)');
    return benchFeedback();
  });

  const cpus = os.cpus();
  const report: BenchReport = {
    schema: 'fieldid-bench/1',
    date: new Date(started).toISOString(),
    durationSeconds: round((Date.now() - started) / 1000),
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      memoryGiB: round(os.totalmem() / 2 ** 30),
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadAverage: { start: loadAtStart, end: os.loadavg().map((l) => round(l, 2)) },
      chromium: browser?.chromium ?? null,
      page: browser?.page
        ? {
            userAgent: browser.page.userAgent,
            hardwareConcurrency: browser.page.hardwareConcurrency,
            crossOriginIsolated: browser.page.crossOriginIsolated,
            availableBackends: browser.page.availableBackends,
          }
        : null,
    },
    model: browser?.page?.model ?? null,
    targets: targets(
      browser?.endToEnd ?? null,
      browser?.automaticChoice ?? null,
      browser?.longTasks ?? null,
    ),
    browser: {
      availableBackends: browser?.availableBackends ?? [],
      plan: browser?.plan ?? {},
      backends: browser?.backends ?? [],
      baselines: browser?.baselines ?? [],
      endToEnd: browser?.endToEnd ?? null,
      whereTheTimeGoes: browser?.whereTheTimeGoes ?? null,
      automaticChoice: browser?.automaticChoice ?? null,
      longTasks: browser?.longTasks ?? null,
      memory: browser?.memory ?? null,
      appServiceWorker: browser?.appServiceWorker ?? null,
      phases: browser?.phases ?? [],
      errors: [...fatal, ...(browser?.errors ?? []), ...serverErrors.map((e) => `server: ${e}`)],
    },
    node,
    offline,
    feedback,
    notes: [
      'Times in ms unless named otherwise; medians and p95 (linear interpolation) over the photos measured.',
      `bench.html photos: ${labPhotos.length} of imagenet-animals spread evenly; backends other than wasm get ${SLOW_BATCH1_PHOTOS} at batch 1 and ${SLOW_BATCH8_REQUESTS} request of ${BATCH_SIZE} (seconds per photo in software).`,
      'Worker runs: a fresh worker per backend through the real bridge; latency = request to answer on the page; decode and inference as the worker reports them.',
      'End to end: the real app pinned to wasm, photos chosen one at a time with "Choose photos"; data-total-ms of the result. rawCallMs is the baseline median over the same photos.',
      'Targets are stated, not asserted.',
    ],
  };

  const json = formatReport(report);
  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  await writeFile(RESULTS_FILE, `${json}\n`);
  process.stdout.write(`${json}\n`);
  log(`done; also written to ${path.relative(PROJECT_ROOT, RESULTS_FILE)}`);
}

main().catch((error: unknown) => {
  log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
