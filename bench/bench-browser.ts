import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_EXECUTABLE, pinBackendScript } from '../playwright.config';
import type { BackendName } from '../src/core/backend-choice';
import { median } from '../src/core/stats';
import type {
  BaselinePlan,
  BaselineResult,
  PageFacts,
  WorkerRunPlan,
  WorkerRunResult,
} from './page/protocol';
import {
  breakDownTime,
  round,
  summariseAutomaticChoice,
  summariseBaseline,
  summariseEndToEnd,
  summariseLongTasks,
  summariseMemory,
  summariseWorkerRun,
  type AutomaticChoiceReport,
  type BackendReport,
  type BaselineKind,
  type BaselineReport,
  type BenchReport,
  type EndToEndReport,
  type EndToEndSample,
  type LongTask,
  type LongTaskReport,
  type MemoryReading,
  type MemoryReport,
  type Phase,
} from './bench-report';

/**
 * The browser half of `npm run bench`: headless Chromium (launched as the e2e suite
 * launches it) against the production build served by the real server. Runs one phase at
 * a time so no two measurements compete for the two cores.
 */

export interface PhotoRef {
  /** Absolute path, for the app's file input. */
  file: string;
  /** Same-origin URL the server answers with the same bytes, for the bench page. */
  url: string;
}

export interface BrowserPlan {
  baseUrl: string;
  /** Photos for the worker and baseline runs; the same ones in the same order for each. */
  photos: PhotoRef[];
  /** Per backend: photos at batch 1 and requests of `batchSize`. */
  counts: (backend: BackendName) => { batch1Photos: number; batch8Requests: number };
  batchSize: number;
  /** The backend of the baseline, the diagnostic and the app runs. */
  referenceBackend: BackendName;
  endToEndPhotos: number;
  longTaskPhotos: string[];
  memoryPhotos: string[];
  log: (message: string) => void;
}

export type BrowserReport = BenchReport['browser'] & {
  chromium: string;
  page: PageFacts | null;
};

/** Extra switches for measuring, on top of the e2e suite's: exact heap figures, a callable GC. */
const MEASURING_ARGS = [
  '--enable-precise-memory-info',
  // measureUserAgentSpecificMemory() otherwise waits for the next natural GC (up to ~20 s).
  '--enable-blink-features=ForceEagerMeasureMemory',
  '--js-flags=--expose-gc',
];

/** A software-GPU backend that hangs must not eat the whole run. */
const BACKEND_RUN_TIMEOUT_MS = 240_000;
const APP_READY_TIMEOUT_MS = 120_000;
const RESULT_TIMEOUT_MS = 60_000;
/** The app waits 3 s of quiet, then loads each candidate in its own worker (WebGPU ~15 s). */
const TRIAL_TIMEOUT_MS = 240_000;

const STORAGE_CHOICE_PREFIX = 'fieldid-backend-choice:';

/*
 * The probe functions below run in the page (Playwright serialises them). They declare no
 * named inner functions: tsx compiles with keepNames, and its `__name` helper does not
 * exist in the page.
 */

export async function runBrowserBench(plan: BrowserPlan): Promise<BrowserReport> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_EXECUTABLE,
    args: [...CHROMIUM_ARGS, ...MEASURING_ARGS],
    headless: true,
  });
  const errors: string[] = [];
  const phases: Phase[] = [];
  const benchStarted = performance.now();
  /** Runs one phase, noting its duration and how busy the machine was when it began. */
  const phase = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const loadAverage1m = round(os.loadavg()[0] ?? 0, 2);
    plan.log(`${name} (load average ${loadAverage1m})`);
    try {
      return await work();
    } finally {
      phases.push({
        name,
        startedAtSeconds: round((started - benchStarted) / 1000),
        seconds: round((performance.now() - started) / 1000),
        loadAverage1m,
      });
    }
  };
  try {
    const chromiumVersion = browser.version();
    plan.log(`Chromium ${chromiumVersion}`);
    const lab = await benchPagePhase(browser, plan, errors, phase);
    const reference = plan.referenceBackend;
    const plain = lab.baselines.find((b) => b.kind === 'plain-tfjs-main-thread')?.raw;
    const app = await phase('app: end to end, then a batch watched for long tasks', () =>
      appPhase(browser, plan, errors, plain ?? null),
    );
    const memory = await phase(`app: ${plan.memoryPhotos.length} classifications, memory`, () =>
      memoryPhase(browser, plan, errors),
    );
    const automaticChoice = await phase('app: automatic backend choice', () =>
      automaticChoicePhase(browser, plan, errors, lab.backends),
    );
    return {
      chromium: chromiumVersion,
      page: lab.facts,
      availableBackends: lab.facts?.availableBackends ?? [],
      plan: Object.fromEntries(
        (lab.facts?.availableBackends ?? []).map((b) => [b, plan.counts(b)]),
      ),
      backends: lab.backends,
      baselines: lab.baselines.map((b) => b.report),
      endToEnd: app.endToEnd,
      whereTheTimeGoes: breakDownTime(reference, plan.endToEndPhotos, {
        plain,
        engine: lab.baselines.find((b) => b.kind === 'app-engine-main-thread')?.raw,
        worker: lab.workerRuns.get(reference),
        endToEnd: app.endToEnd,
      }),
      automaticChoice,
      longTasks: app.longTasks,
      memory,
      appServiceWorker: app.serviceWorker,
      phases,
      errors,
    };
  } finally {
    await browser.close();
  }
}

type PhaseRunner = <T>(name: string, work: () => Promise<T>) => Promise<T>;

function watchPage(page: Page, label: string, errors: string[], log: (m: string) => void) {
  page.on('console', (message) => {
    const text = message.text();
    if (text.startsWith('[bench] ')) log(`${label}: ${text.slice(8)}`);
    else if (message.type() === 'error') errors.push(`${label} console: ${text}`);
  });
  page.on('pageerror', (error) => errors.push(`${label} page error: ${error.message}`));
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- (a) bench.html: every backend through the real bridge, and the baseline ------------

interface LabResult {
  facts: PageFacts | null;
  backends: BackendReport[];
  workerRuns: Map<BackendName, WorkerRunResult>;
  baselines: { kind: BaselineKind; report: BaselineReport; raw: BaselineResult }[];
}

/** GPU emulations last: they are slow, and the most likely to hang. */
const RUN_ORDER: BackendName[] = ['wasm', 'cpu', 'webgl', 'webgpu'];

async function benchPagePhase(
  browser: Browser,
  plan: BrowserPlan,
  errors: string[],
  phase: PhaseRunner,
): Promise<LabResult> {
  const context = await browser.newContext({ baseURL: plan.baseUrl });
  const page = await context.newPage();
  watchPage(page, 'bench.html', errors, plan.log);
  const open = async () => {
    await page.goto('/bench.html');
    await page.waitForSelector('body[data-ready="true"]', { timeout: APP_READY_TIMEOUT_MS });
  };
  const urls = plan.photos.map((p) => p.url);
  const planFor = (backend: BackendName) => {
    const { batch1Photos, batch8Requests } = plan.counts(backend);
    return {
      backend,
      photoUrls: urls.slice(0, Math.max(batch1Photos, batch8Requests * plan.batchSize)),
      batch1Photos,
      batchRequests: batch8Requests,
      batchSize: plan.batchSize,
    };
  };
  /** Runs `work` in the page; a run that hangs is cut off and the page reloaded. */
  const attempt = async <T>(what: string, work: () => Promise<T>, onFailure: (e: string) => T) => {
    try {
      return await withTimeout(work(), BACKEND_RUN_TIMEOUT_MS, what);
    } catch (error) {
      await open().catch(() => {}); // a reload ends a stuck worker
      return onFailure(String(error));
    }
  };

  const workerRuns = new Map<BackendName, WorkerRunResult>();
  const baselines: LabResult['baselines'] = [];
  const runWorker = async (backend: BackendName) => {
    const workerPlan: WorkerRunPlan = planFor(backend);
    const run = await phase(
      `bench.html: worker on ${backend}, ${workerPlan.batch1Photos} photos at batch 1 and ` +
        `${workerPlan.batchRequests}×${plan.batchSize}`,
      () =>
        attempt(
          `worker ${backend}`,
          () => page.evaluate((p) => window.fieldidBench!.runWorker(p), workerPlan),
          (error): WorkerRunResult => ({ backend, ok: false, stage: 'run', error }),
        ),
    );
    if (!run.ok) plan.log(`worker ${backend}: failed at ${run.stage}: ${run.error}`);
    workerRuns.set(backend, run);
  };
  const runMainThread = async (kind: BaselineKind, backend: BackendName) => {
    const mainPlan: BaselinePlan = planFor(backend);
    const raw = await phase(`bench.html: ${kind} on ${backend}`, () =>
      attempt(
        kind,
        () =>
          page.evaluate(
            ({ p, k }) => {
              const api = window.fieldidBench!;
              return k === 'plain-tfjs-main-thread'
                ? api.runBaseline(p)
                : api.runEngineOnMainThread(p);
            },
            { p: mainPlan, k: kind },
          ),
        (error): BaselineResult => ({ backend, ok: false, stage: 'run', error }),
      ),
    );
    if (!raw.ok) plan.log(`${kind} ${backend}: failed at ${raw.stage}: ${raw.error}`);
    baselines.push({ kind, raw, report: summariseBaseline(kind, raw, workerRuns.get(backend)) });
  };

  try {
    await open();
    const facts = await page.evaluate(() => window.fieldidBench!.facts());
    plan.log(
      `bench.html: model ${facts.model.ref}, backends ${facts.availableBackends.join(', ')}, ` +
        `crossOriginIsolated ${facts.crossOriginIsolated}`,
    );
    const reference = plan.referenceBackend;
    // The reference backend's three runs back to back, so the machine's load drifts least.
    if (facts.availableBackends.includes(reference)) {
      await runWorker(reference);
      await runMainThread('plain-tfjs-main-thread', reference);
      await runMainThread('app-engine-main-thread', reference);
    }
    for (const backend of RUN_ORDER) {
      if (backend !== reference && facts.availableBackends.includes(backend)) {
        await runWorker(backend);
      }
    }
    return {
      facts,
      backends: RUN_ORDER.flatMap((b) => {
        const run = workerRuns.get(b);
        return run ? [summariseWorkerRun(run)] : [];
      }),
      workerRuns,
      baselines,
    };
  } catch (error) {
    errors.push(`bench.html: ${String(error)}`);
    return { facts: null, backends: [], workerRuns, baselines };
  } finally {
    await context.close();
  }
}

// ---- (b) the real app: end to end, and long tasks during a batch --------------------------

/** A fresh context with the backend pinned the way Settings stores it, so no trial runs. */
async function openApp(browser: Browser, plan: BrowserPlan, pinned: BackendName | null) {
  const context = await browser.newContext({ baseURL: plan.baseUrl });
  if (pinned !== null) await context.addInitScript(pinBackendScript(pinned));
  const page = await context.newPage();
  await page.goto('/');
  await page.getByTestId('backend').waitFor({ timeout: APP_READY_TIMEOUT_MS });
  const serviceWorker = await settle(page);
  return { context, page, serviceWorker };
}

/** How long after the load event the app may take to register its service worker. */
const SW_REGISTER_WAIT_MS = 3000;
const SW_ACTIVATE_WAIT_MS = 30_000;
/** After activation the app may cache the model for offline use: let that finish too. */
const SETTLE_MS = 2000;

/**
 * Waits until the app's first-visit background work (service worker install and
 * precaching) is over, so it does not land inside a measurement.
 */
async function settle(page: Page): Promise<'active' | 'none' | 'unsupported' | 'timeout'> {
  await page.waitForLoadState('load');
  const state = await page.evaluate(
    async ({ registerWaitMs, activateWaitMs }) => {
      const g = window;
      const container = g.navigator.serviceWorker;
      if (container === undefined) return 'unsupported' as const;
      let registration = await container.getRegistration();
      for (let waited = 0; registration === undefined && waited < registerWaitMs; waited += 250) {
        await new Promise<void>((resolve) => g.setTimeout(resolve, 250));
        registration = await container.getRegistration();
      }
      if (registration === undefined) return 'none' as const;
      const active = await Promise.race([
        container.ready.then(() => true),
        new Promise<boolean>((resolve) => g.setTimeout(() => resolve(false), activateWaitMs)),
      ]);
      return active ? ('active' as const) : ('timeout' as const);
    },
    { registerWaitMs: SW_REGISTER_WAIT_MS, activateWaitMs: SW_ACTIVATE_WAIT_MS },
  );
  if (state === 'active') await page.waitForTimeout(SETTLE_MS);
  return state;
}

/** The "Choose photos" input lives on the Identify screen; a batch leaves the app on another. */
async function choose(page: Page, files: string | string[]): Promise<void> {
  const input = page.getByLabel('Choose photos');
  if ((await input.count()) === 0) {
    await page.getByRole('button', { name: 'Identify', exact: true }).click();
  }
  await input.setInputFiles(files);
}

async function choosePhoto(page: Page, file: string): Promise<EndToEndSample> {
  const name = path.basename(file);
  await choose(page, file);
  const result = page.locator(`[data-testid="result"][data-file="${name}"][data-total-ms]`);
  await result.waitFor({ state: 'attached', timeout: RESULT_TIMEOUT_MS });
  const totalMs = Number(await result.getAttribute('data-total-ms'));
  // The result line reads "… · 97 ms on wasm · …": decode + inference inside the worker.
  const shown = /(\d+) ms on [a-z]+/.exec((await result.textContent()) ?? '');
  return { file: name, totalMs, workerMs: shown ? Number(shown[1]) : null };
}

/**
 * Chooses `files` at once (a batch) and returns when the page shows them all done, timed on
 * the page from the input's change event to the progress text reaching "N of N".
 */
async function runAppBatch(
  page: Page,
  files: string[],
): Promise<{ startedAt: number; finishedAt: number }> {
  await page.evaluate((total) => {
    const g = window;
    const state: { startedAt: number | null; finishedAt: number | null } = {
      startedAt: null,
      finishedAt: null,
    };
    g.benchBatch = state;
    g.document.addEventListener(
      'change',
      () => {
        state.startedAt = g.performance.now();
      },
      { capture: true, once: true },
    );
    const done = `${total} of ${total}`;
    const observer = new g.MutationObserver(() => {
      if (g.document.querySelector('[data-testid="batch-count"]')?.textContent === done) {
        state.finishedAt = g.performance.now();
        observer.disconnect();
      }
    });
    observer.observe(g.document.body, { subtree: true, childList: true, characterData: true });
  }, files.length);
  await choose(page, files);
  await page.waitForFunction(() => window.benchBatch?.finishedAt != null, null, {
    timeout: files.length * 2_000 + 60_000,
    polling: 250,
  });
  const batch = await page.evaluate(() => window.benchBatch!);
  return { startedAt: batch.startedAt ?? Number.NaN, finishedAt: batch.finishedAt! };
}

async function appPhase(
  browser: Browser,
  plan: BrowserPlan,
  errors: string[],
  plainBaseline: BaselineResult | null,
): Promise<{
  endToEnd: EndToEndReport | null;
  longTasks: LongTaskReport | null;
  serviceWorker: string;
}> {
  let endToEnd: EndToEndReport | null = null;
  let longTasks: LongTaskReport | null = null;
  const { context, page, serviceWorker } = await openApp(browser, plan, plan.referenceBackend);
  watchPage(page, 'app', errors, plan.log);
  plan.log(`app: service worker ${serviceWorker}`);
  try {
    // A photo outside the timed set first: the first answer after start-up pays one-offs.
    const timed = plan.photos.slice(0, plan.endToEndPhotos);
    const first = await choosePhoto(page, plan.photos.at(-1)!.file);
    plan.log(`app: first photo ${first.totalMs} ms end to end`);
    const samples: EndToEndSample[] = [];
    for (const photo of timed) samples.push(await choosePhoto(page, photo.file));
    // The raw call over the same photos, in the same order, on the same backend.
    const raw = plainBaseline?.ok
      ? plainBaseline.batch1.slice(0, timed.length).map((r) => r.wallMs)
      : [];
    endToEnd = summariseEndToEnd(
      plan.referenceBackend,
      first,
      samples,
      raw.length > 0 ? median(raw) : null,
    );
    plan.log(
      `app: end to end median ${endToEnd.totalMs?.median} ms over ${samples.length} photos ` +
        `(raw call ${endToEnd.rawCallMs} ms)`,
    );
  } catch (error) {
    errors.push(`end to end: ${String(error)}`);
  }

  try {
    await page.evaluate(() => {
      const g = window;
      const tasks: LongTask[] = [];
      g.benchLongTasks = tasks;
      new g.PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
          tasks.push({ startTime: entry.startTime, duration: entry.duration });
        }
      }).observe({ type: 'longtask', buffered: true });
    });
    plan.log(`app: batch of ${plan.longTaskPhotos.length} photos, watching for long tasks`);
    const batch = await runAppBatch(page, plan.longTaskPhotos);
    // Entries are delivered asynchronously: give the observer a moment to catch up.
    await page.waitForTimeout(500);
    const tasks = await page.evaluate(() => window.benchLongTasks!);
    longTasks = summariseLongTasks(plan.referenceBackend, plan.longTaskPhotos.length, batch, tasks);
    plan.log(
      `app: batch took ${longTasks.batchMs} ms; ${longTasks.count} long tasks, longest ${longTasks.longestMs} ms`,
    );
  } catch (error) {
    errors.push(`long tasks: ${String(error)}`);
  } finally {
    await context.close();
  }
  return { endToEnd, longTasks, serviceWorker };
}

// ---- (c) memory after 500 classifications -------------------------------------------------

async function readMemory(page: Page, afterClassifications: number): Promise<MemoryReading> {
  const onPage = await page.evaluate(async () => {
    const g = window;
    g.gc?.();
    const used = g.performance.memory?.usedJSHeapSize ?? null;
    let userAgentSpecific: MemoryReading['userAgentSpecific'] = null;
    if (g.crossOriginIsolated && g.performance.measureUserAgentSpecificMemory) {
      const measured = await Promise.race([
        g.performance.measureUserAgentSpecificMemory(),
        new Promise<null>((resolve) => g.setTimeout(() => resolve(null), 60_000)),
      ]);
      if (measured !== null) {
        const byScope: Record<string, number> = {};
        const byType: Record<string, number> = {};
        for (const part of measured.breakdown) {
          const scope = part.attribution[0]?.scope ?? 'unattributed';
          byScope[scope] = (byScope[scope] ?? 0) + part.bytes;
          const type = part.types.join('+') || 'unattributed';
          byType[type] = (byType[type] ?? 0) + part.bytes;
        }
        userAgentSpecific = { totalBytes: measured.bytes, byScope, byType };
      }
    }
    return { used, userAgentSpecific };
  });
  const worker = page.workers().find((w) => w.url().includes('inference.worker'));
  // TF.js keeps its engine on the global object, so the worker's figures are readable
  // without a hook in the app: tensors, and the wasm heap (which only ever grows).
  const inWorker = worker
    ? await worker.evaluate(() => {
        const engine = globalThis._tfengine;
        if (!engine) return null;
        const { numTensors, numBytes } = engine.memory();
        const wasmHeapBytes = engine.backendInstance?.wasm?.HEAPU8?.buffer.byteLength ?? null;
        return { numTensors, numBytes, wasmHeapBytes };
      })
    : null;
  return {
    afterClassifications,
    mainThreadUsedJsHeapBytes: onPage.used,
    userAgentSpecific: onPage.userAgentSpecific,
    workerTensors: inWorker?.numTensors ?? null,
    workerTensorBytes: inWorker?.numBytes ?? null,
    workerWasmHeapBytes: inWorker?.wasmHeapBytes ?? null,
  };
}

/**
 * Two batches in one page, the second choosing the rest of the photos: a reading after
 * the first tells a one-off rise (the wasm heap growing to fit a batch of 8) from a leak,
 * which would keep growing through the second.
 */
async function memoryPhase(
  browser: Browser,
  plan: BrowserPlan,
  errors: string[],
): Promise<MemoryReport | null> {
  const { context, page } = await openApp(browser, plan, plan.referenceBackend);
  watchPage(page, 'app (memory)', errors, plan.log);
  try {
    const photos = plan.memoryPhotos;
    const first = photos.slice(0, plan.longTaskPhotos.length);
    const rest = photos.slice(first.length);
    const readings: MemoryReading[] = [await readMemory(page, 0)];
    let batchMs = 0;
    for (const batch of [first, rest]) {
      const timed = await runAppBatch(page, batch);
      batchMs += timed.finishedAt - timed.startedAt;
      await page.waitForTimeout(1000);
      readings.push(await readMemory(page, readings.at(-1)!.afterClassifications + batch.length));
      plan.log(`app: memory after ${readings.at(-1)!.afterClassifications} classifications`);
    }
    const report = summariseMemory(plan.referenceBackend, batchMs, readings);
    plan.log(
      `app: worker tensors ${readings.map((r) => r.workerTensors).join(' -> ')}, ` +
        `all JS ${readings.map((r) => r.userAgentSpecific?.totalBytes).join(' -> ')} bytes`,
    );
    return report;
  } catch (error) {
    errors.push(`memory: ${String(error)}`);
    return null;
  } finally {
    await context.close();
  }
}

// ---- (d) the automatic backend choice -----------------------------------------------------

async function automaticChoicePhase(
  browser: Browser,
  plan: BrowserPlan,
  errors: string[],
  backends: BackendReport[],
): Promise<AutomaticChoiceReport | null> {
  const { context, page } = await openApp(browser, plan, null);
  watchPage(page, 'app (auto)', errors, plan.log);
  try {
    await choosePhoto(page, plan.photos[0]!.file);
    const resultAt = performance.now();
    plan.log('app (auto): first photo answered; waiting for the idle-time backend trial');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByTestId('backend-measurements').waitFor({ timeout: TRIAL_TIMEOUT_MS });
    const trialMs = performance.now() - resultAt;
    const stored = await page.evaluate((prefix) => {
      const storage = window.localStorage;
      const found: string[] = [];
      for (let i = 0; i < storage.length; i++) {
        const key = storage.key(i);
        if (key?.startsWith(prefix)) found.push(storage.getItem(key) ?? '');
      }
      return found;
    }, STORAGE_CHOICE_PREFIX);
    const remembered =
      stored.length === 1
        ? (JSON.parse(stored[0]!) as {
            backend: BackendName;
            mediansMs: Record<string, number | null>;
          })
        : null;
    let activeBackendAfter: string | null = null;
    if (remembered !== null) {
      // After the trial the app switches to its choice; wait for that to show.
      await page
        .waitForFunction(
          (chosen) =>
            window.document.querySelector('[data-testid="backend"]')?.textContent === chosen,
          remembered.backend,
          { timeout: 60_000 },
        )
        .catch(() => {});
      activeBackendAfter = await page.getByTestId('backend').textContent();
    }
    const report = summariseAutomaticChoice(
      remembered?.backend ?? null,
      remembered?.mediansMs ?? null,
      backends,
      {
        trialMs,
        activeBackendAfter,
        error:
          remembered === null ? `expected one remembered choice, found ${stored.length}` : null,
      },
    );
    plan.log(`app (auto): chose ${report.chosen}; best measured ${report.best}`);
    return report;
  } catch (error) {
    errors.push(`automatic choice: ${String(error)}`);
    return null;
  } finally {
    await context.close();
  }
}
