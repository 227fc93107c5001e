import { z } from 'zod';
import type { ModelRef } from './model-ref';

/**
 * The model manifest published at /models/manifest.json. The server builds it from
 * MODELS_DIR at start-up; the app, the worker, the service worker and the CLI read it.
 * Everything read from the network goes through `parseModelManifest` first.
 */

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const modelFileSchema = z.object({
  /** File name relative to the model's versioned base URL. */
  path: z.string().min(1).max(200),
  bytes: z.number().int().nonnegative(),
  sha256: sha256Hex,
});

/**
 * What the label lines mean. `imagenet`: comma-separated synonyms; `scientific-common`:
 * "Genus species (Common name)". `backgroundIndex` is the "nothing recognised" output;
 * `animalIndices` (inclusive ranges) limits what may be offered as an animal.
 */
export const labelSpecSchema = z.object({
  format: z.enum(['imagenet', 'scientific-common', 'plain']),
  count: z.number().int().positive(),
  backgroundIndex: z.number().int().nonnegative().nullable(),
  animalRanges: z.array(z.tuple([z.number().int(), z.number().int()])).nullable(),
  /**
   * The temperature that calibrates the model's probabilities (softmax(log p / T), see
   * ./calibration): every answer, threshold and roll-up reads the calibrated outputs.
   * Absent in manifests from before calibration: 1, the outputs as the model gives them.
   */
  temperature: z.number().positive().max(100).optional(),
});

export const inputSpecSchema = z.object({
  name: z.string(),
  size: z.number().int().positive(),
  channels: z.literal(3),
  /** Pixel values are mapped linearly from [0, 255] onto this range. */
  range: z.tuple([z.number(), z.number()]),
});

export const modelEntrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  version: z.string().regex(/^[0-9a-zA-Z.+-]{1,64}$/),
  name: z.string().max(200),
  description: z.string().max(2000),
  /** Base URL of this version; file paths resolve against it. */
  baseUrl: z.string().min(1),
  modelFile: z.string(),
  labelsFile: z.string(),
  files: z.array(modelFileSchema).min(1),
  totalBytes: z.number().int().nonnegative(),
  input: inputSpecSchema,
  output: z.object({ classes: z.number().int().positive(), isProbability: z.boolean() }),
  labels: labelSpecSchema,
});

export const modelManifestSchema = z.object({
  schemaVersion: z.literal(1),
  generatedAt: z.string(),
  defaultModel: z.string(),
  models: z.array(modelEntrySchema).min(1),
});

export type ModelFile = z.infer<typeof modelFileSchema>;
export type LabelSpec = z.infer<typeof labelSpecSchema>;
export type InputSpec = z.infer<typeof inputSpecSchema>;
export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type ModelManifest = z.infer<typeof modelManifestSchema>;

export function parseModelManifest(
  value: unknown,
): { ok: true; manifest: ModelManifest } | { ok: false; reason: string } {
  const parsed = modelManifestSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: z.prettifyError(parsed.error) };
  const ids = new Set(parsed.data.models.map((m) => m.id));
  if (ids.size !== parsed.data.models.length) return { ok: false, reason: 'duplicate model id' };
  if (!ids.has(parsed.data.defaultModel)) return { ok: false, reason: 'unknown default model' };
  return { ok: true, manifest: parsed.data };
}

/** Just the id and version of an entry: what results, records and settings carry. */
export function modelRefOf(entry: Pick<ModelEntry, 'id' | 'version'>): ModelRef {
  return { id: entry.id, version: entry.version };
}

export function fileUrl(entry: Pick<ModelEntry, 'baseUrl'>, path: string): string {
  return entry.baseUrl.endsWith('/') ? entry.baseUrl + path : `${entry.baseUrl}/${path}`;
}
