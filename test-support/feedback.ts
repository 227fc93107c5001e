import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import type { FeedbackRecordInput } from '../src/core/feedback';
import type { ModelEntry } from '../src/core/model-manifest';
import { DATA_DIR } from '../src/node/shared-paths';
import { buildApp, type AppConfig } from '../src/server/app';
import { folderSource } from '../src/server/model-source';
import type { FeedbackStore } from '../src/server/feedback-store';
import { loadModelRegistry, type ModelRegistry } from '../src/node/model-registry';
import { SHARED_MODELS_DIR } from './helpers';
import { makeTestDatabase, type StoreKind, type TestDatabase } from './stores';

/** Builders shared by the feedback API tests: real models, real labels, real photos. */

let registryPromise: Promise<ModelRegistry> | null = null;
export function testRegistry(): Promise<ModelRegistry> {
  registryPromise ??= loadModelRegistry(SHARED_MODELS_DIR);
  return registryPromise;
}

export interface TestModel {
  entry: ModelEntry;
  labels: string[];
}

/** The birds model, whose label lines have the scientific (common) form. */
export async function testModel(): Promise<TestModel> {
  const registry = await testRegistry();
  const entry = registry.manifest.models.find((m) => m.id === 'inat-birds-mobilenet-v2');
  if (!entry) throw new Error('the birds model is missing');
  const labels = [...(registry.labels(entry.id, entry.version) ?? [])];
  return { entry, labels };
}

/** A valid "corrected" record with a fresh id; overrides of `undefined` remove a key. */
export function makeRecord(
  model: TestModel,
  overrides: Record<string, unknown> = {},
): FeedbackRecordInput {
  const [first = '', second = '', third = ''] = model.labels;
  return JSON.parse(
    JSON.stringify({
      id: randomUUID(),
      model: { id: model.entry.id, version: model.entry.version },
      predicted: first,
      verdict: 'corrected',
      correctedLabel: second,
      day: '2026-05-01',
      top: [
        { label: first, probability: 0.55 },
        { label: second, probability: 0.3 },
        { label: third, probability: 0.05 },
      ],
      appVersion: '0.1.0',
      ...overrides,
    }),
  ) as FeedbackRecordInput;
}

/** A real photo, as the client sends it: re-encoded to 256 px, no metadata. */
export async function cleanPhoto(longSidePx = 256): Promise<Buffer> {
  const original = await readFile(
    join(DATA_DIR, 'odd-inputs', 'jpeg_upright_reference_domestic_dog.jpg'),
  );
  return sharp(original)
    .resize(longSidePx, longSidePx, { fit: 'inside' })
    .jpeg({ quality: 80 })
    .toBuffer();
}

export interface TestApp {
  app: FastifyInstance;
  store: FeedbackStore;
  database: TestDatabase;
  close(): Promise<void>;
}

/**
 * The real app on a fresh database of the given kind, or on `database` (which it then
 * leaves in place on close), serving the shared models or those of `registry`.
 */
export async function buildTestApp(
  kind: StoreKind,
  options: {
    feedback?: AppConfig['feedback'];
    now?: () => number;
    logStream?: { write(line: string): void };
    database?: TestDatabase;
    registry?: ModelRegistry;
  } = {},
): Promise<TestApp> {
  const database = options.database ?? (await makeTestDatabase(kind));
  const store = await database.open();
  const app = buildApp(
    {
      distDir: '/nonexistent/dist',
      logLevel: options.logStream ? 'info' : 'silent',
      feedback: { rateLimit: { burst: 10_000, perMinute: 600_000 }, ...options.feedback },
    },
    {
      models: folderSource(options.registry ?? (await testRegistry())),
      store,
      now: options.now,
      logStream: options.logStream,
    },
  );
  await app.ready();
  return {
    app,
    store,
    database,
    close: async () => {
      await app.close();
      await store.close();
      if (!options.database) await database.remove();
    },
  };
}

export const postFeedback = (app: FastifyInstance, body: unknown) =>
  app.inject({
    method: 'POST',
    url: '/api/v1/feedback',
    headers: { 'content-type': 'application/json' },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
