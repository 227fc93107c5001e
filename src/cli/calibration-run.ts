import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { animalIndexMask, NOT_SURE_BELOW } from '../core/answer';
import {
  applyTemperature,
  ECE_BINS,
  expectedCalibrationError,
  fitTemperature,
  reliabilityTable,
  thresholdTradeOff,
  topOne,
  type LabelledOutput,
  type ReliabilityBin,
  type ThresholdStep,
  type TopOne,
} from '../core/calibration';
import { parseLabels, type Label } from '../core/labels';
import { catalogTemperature } from '../core/model-catalog';
import type { ModelEntry } from '../core/model-manifest';
import { formatModelRef } from '../core/model-ref';
import { loadModelArtifacts } from '../model/artifacts';
import { createClassifier } from '../model/classifier';
import { MICRO_BATCH } from '../model/engine';
import { decodePhotoBytes } from '../node/inference/decode-image';
import { activateNodeBackend, diskReader } from '../node/inference/node-model';
import { loadModelRegistry } from '../node/model-registry';
import { parseCsvRows } from '../node/csv';

/**
 * What `npm run calibrate` measures: each model on its labelled photo set, a temperature
 * fitted on one half and judged on the other, and the "Not sure" threshold re-measured on
 * the calibrated probabilities. The test runs this same code.
 */

export type Split = 'fit' | 'report';

/**
 * By content, so a photo never changes sides when files are renamed, added or reordered:
 * the first byte of the SHA-256 of the file's bytes, even for fit, odd for report.
 */
export function splitOf(bytes: Uint8Array): Split {
  const first = createHash('sha256').update(bytes).digest()[0]!;
  return first % 2 === 0 ? 'fit' : 'report';
}

export interface LabelledPhoto {
  /** Relative to the data folder. */
  file: string;
  /** Output indices that count as right. */
  correct: number[];
}

export interface PhotoSet {
  modelId: string;
  folder: string;
  photos: LabelledPhoto[];
  /** Rows left out, with why, so the report can say what it did not count. */
  excluded: { file: string; why: string }[];
}

/** Each model and the shared folder of photos it is judged on. */
export const CALIBRATION_SETS = [
  { modelId: 'imagenet-mobilenet-v2', folder: 'imagenet-animals' },
  { modelId: 'inat-birds-mobilenet-v2', folder: 'birds-cub' },
  { modelId: 'inat-insects-mobilenet-v2', folder: 'butterflies-leeds' },
] as const;

/** "Brandt_Cormorant", "American Three-toed Woodpecker" → letters only, lower case. */
function nameKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z]/g, '');
}

/**
 * Which outputs are right for one row of a folder's labels.csv: the ImageNet indices (+1
 * for the background line), a CUB species whose common name is a line of the birds model,
 * a Leeds species whose scientific name is a line of the insects model.
 */
export function labelledPhotos(
  modelId: string,
  folder: string,
  rows: Record<string, string>[],
  labels: readonly Label[],
): PhotoSet {
  const photos: LabelledPhoto[] = [];
  const excluded: PhotoSet['excluded'] = [];
  const byCommon = new Map<string, number[]>();
  const byScientific = new Map<string, number[]>();
  for (const label of labels) {
    const add = (map: Map<string, number[]>, key: string) =>
      map.set(key, [...(map.get(key) ?? []), label.index]);
    add(byCommon, nameKey(label.commonName));
    if (label.scientificName !== null) add(byScientific, label.scientificName.toLowerCase());
  }
  for (const row of rows) {
    const file = row.file ?? '';
    let correct: number[];
    if (folder === 'imagenet-animals') {
      correct = (row.imagenet_indices ?? '')
        .split(' ')
        .filter((n) => n !== '')
        .map((n) => Number(n) + 1);
    } else if (folder === 'birds-cub') {
      correct = byCommon.get(nameKey(row.label ?? '')) ?? [];
    } else if (folder === 'butterflies-leeds') {
      correct = byScientific.get((row.scientific_name ?? '').toLowerCase()) ?? [];
    } else {
      throw new Error(`no rule for the right answers of ${folder}`);
    }
    if (correct.length === 0)
      excluded.push({ file, why: `${row.label ?? '?'} is not a class of ${modelId}` });
    else photos.push({ file, correct });
  }
  return { modelId, folder, photos, excluded };
}

/** One photo's full model output, kept in memory so one run classifies each photo once. */
export interface MeasuredPhoto extends LabelledOutput {
  file: string;
  split: Split;
}

export interface MeasuredSet {
  entry: ModelEntry;
  set: PhotoSet;
  photos: MeasuredPhoto[];
}

/** Runs every model on its set: the same decoding and preprocessing as `npm run classify`. */
export async function measureSets(modelsDir: string, dataDir: string): Promise<MeasuredSet[]> {
  const registry = await loadModelRegistry(modelsDir);
  if (!(await activateNodeBackend('wasm')) && !(await activateNodeBackend('cpu'))) {
    throw new Error('no TF.js backend could be activated');
  }
  const measured: MeasuredSet[] = [];
  for (const { modelId, folder } of CALIBRATION_SETS) {
    const entry = registry.manifest.models.find((m) => m.id === modelId);
    if (entry === undefined) throw new Error(`${modelId} is not in ${modelsDir}`);
    const bundle = await loadModelArtifacts(entry, diskReader(registry, entry));
    if (!bundle.ok)
      throw new Error(`${modelId}: ${bundle.error.message} ${bundle.error.detail ?? ''}`);
    const labels = parseLabels(bundle.value.labelsText, entry.labels);
    if (!labels.ok) throw new Error(`${modelId}: ${labels.error.detail ?? ''}`);
    const rows = parseCsvRows(await readFile(path.join(dataDir, folder, 'labels.csv'), 'utf8'));
    const set = labelledPhotos(modelId, folder, rows, labels.value);

    const classifier = await createClassifier(entry, bundle.value);
    const photos: MeasuredPhoto[] = [];
    try {
      for (let start = 0; start < set.photos.length; start += MICRO_BATCH) {
        const chunk = set.photos.slice(start, start + MICRO_BATCH);
        const prepared = await Promise.all(
          chunk.map(async (photo) => {
            const bytes = await readFile(path.join(dataDir, folder, photo.file));
            const decoded = await decodePhotoBytes(bytes, entry.input.size);
            if (!decoded.ok) throw new Error(`${photo.file}: ${decoded.error.message}`);
            return { photo, split: splitOf(bytes), image: decoded.value.image };
          }),
        );
        const outputs = await classifier.classify(prepared.map((p) => p.image));
        for (const [i, { photo, split }] of prepared.entries()) {
          photos.push({
            file: photo.file,
            correct: photo.correct,
            split,
            probabilities: outputs[i]!,
          });
        }
      }
    } finally {
      classifier.dispose();
    }
    measured.push({ entry, set, photos });
  }
  return measured;
}

function scaled(photo: LabelledOutput, temperature: number): LabelledOutput {
  return {
    probabilities: applyTemperature(photo.probabilities, temperature),
    correct: photo.correct,
  };
}

function top1Rate(tops: readonly TopOne[]): number {
  return tops.filter((t) => t.right).length / tops.length;
}

export interface SplitFigures {
  photos: number;
  top1: number;
  /** Must equal `top1`: a temperature never reorders the classes. */
  top1Calibrated: number;
  eceBefore: number;
  eceAfter: number;
}

/** A 90 % bootstrap interval: the 5th and 95th percentiles over resamples. */
export type Interval = [number, number];

export interface Precision {
  resamples: number;
  /** T fitted on resamples of the fit split. */
  temperature: Interval;
  /** ECE before minus after on resamples of the report split, at the fitted T. */
  reportEceDrop: Interval;
}

/** Enough for a 90 % interval's ends to settle to about a hundredth; a fixed seed repeats them. */
const RESAMPLES = 200;

/** A small deterministic generator: the same run prints the same intervals. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function percentileInterval(values: number[]): Interval {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return [at(0.05), at(0.95)];
}

function resample<T>(items: readonly T[], random: () => number): T[] {
  return items.map(() => items[Math.floor(random() * items.length)]!);
}

/**
 * How far the figures could move with other photos of the same kind: the sets are small
 * (tens of photos for the specialists), and one photo more or less right shifts ECE by
 * a few hundredths.
 */
function bootstrapPrecision(
  fitPhotos: readonly LabelledOutput[],
  reportPhotos: readonly LabelledOutput[],
  temperature: number,
): Precision {
  const random = seededRandom(1);
  const temperatures: number[] = [];
  for (let r = 0; r < RESAMPLES; r++) {
    try {
      temperatures.push(fitTemperature(resample(fitPhotos, random)).temperature);
    } catch {
      // A resample with no wrong photo has no finite best T: it sits at the search's edge.
      temperatures.push(Number.NaN);
    }
  }
  const pairs = reportPhotos.map((p) => ({
    before: topOne(p),
    after: topOne(scaled(p, temperature)),
  }));
  const drops: number[] = [];
  for (let r = 0; r < RESAMPLES; r++) {
    const drawn = resample(pairs, random);
    drops.push(
      expectedCalibrationError(drawn.map((d) => d.before)) -
        expectedCalibrationError(drawn.map((d) => d.after)),
    );
  }
  const finite = temperatures.filter((t) => Number.isFinite(t));
  return {
    resamples: RESAMPLES,
    // Resamples without a wrong photo want T -> 0; they count at the low end.
    temperature: percentileInterval([
      ...temperatures.filter((t) => !Number.isFinite(t)).map(() => 0),
      ...finite,
    ]),
    reportEceDrop: percentileInterval(drops),
  };
}

export interface ModelReport {
  model: string;
  folder: string;
  photos: { fit: number; report: number; excluded: number };
  temperature: number;
  committedTemperature: number;
  /** Mean negative log-likelihood on the fit split. */
  nll: { before: number; after: number };
  fit: SplitFigures;
  report: SplitFigures;
  reliability: { bins: number; reportBefore: ReliabilityBin[]; reportAfter: ReliabilityBin[] };
  /** Left out when not asked for: it re-fits the model hundreds of times. */
  precision: Precision | null;
}

function splitFigures(photos: readonly LabelledOutput[], temperature: number): SplitFigures {
  const before = photos.map((p) => topOne(p));
  const after = photos.map((p) => topOne(scaled(p, temperature)));
  return {
    photos: photos.length,
    top1: top1Rate(before),
    top1Calibrated: top1Rate(after),
    eceBefore: expectedCalibrationError(before),
    eceAfter: expectedCalibrationError(after),
  };
}

export function modelReport(measured: MeasuredSet, withPrecision = false): ModelReport {
  const fitPhotos = measured.photos.filter((p) => p.split === 'fit');
  const reportPhotos = measured.photos.filter((p) => p.split === 'report');
  const fit = fitTemperature(fitPhotos);
  return {
    model: formatModelRef(measured.entry),
    folder: measured.set.folder,
    photos: {
      fit: fitPhotos.length,
      report: reportPhotos.length,
      excluded: measured.set.excluded.length,
    },
    temperature: fit.temperature,
    committedTemperature: catalogTemperature(measured.entry.id),
    nll: { before: fit.nllBefore, after: fit.nllAfter },
    fit: splitFigures(fitPhotos, fit.temperature),
    report: splitFigures(reportPhotos, fit.temperature),
    reliability: {
      bins: ECE_BINS,
      reportBefore: reliabilityTable(reportPhotos.map((p) => topOne(p))),
      reportAfter: reliabilityTable(reportPhotos.map((p) => topOne(scaled(p, fit.temperature)))),
    },
    precision: withPrecision ? bootstrapPrecision(fitPhotos, reportPhotos, fit.temperature) : null,
  };
}

/** The thresholds the table steps through: 0.05 to 0.70. */
export const THRESHOLDS = Array.from({ length: 14 }, (_, i) => Math.round((i + 1) * 5) / 100);

/**
 * The "Not sure" rule looks at the best animal candidate (never the background), so the
 * table does too: its probability, and whether it is right.
 */
function bestAnimal(photo: LabelledOutput, mask: Uint8Array): Pick<TopOne, 'confidence' | 'right'> {
  let index = -1;
  let confidence = 0;
  for (let i = 0; i < photo.probabilities.length; i++) {
    const p = photo.probabilities[i] ?? 0;
    if (mask[i] === 1 && Number.isFinite(p) && p > confidence) {
      confidence = p;
      index = i;
    }
  }
  return { confidence, right: index !== -1 && photo.correct.includes(index) };
}

export interface ThresholdReport {
  current: number;
  /** Photos counted: every photo of the three sets, or the report split only. */
  photos: number;
  steps: (ThresholdStep & {
    /** Per model, in CALIBRATION_SETS order: share answered, share of answers right. */
    perModel: { model: string; answeredShare: number; precision: number | null }[];
  })[];
}

/**
 * The trade-off behind `NOT_SURE_BELOW`, over the three sets together, with each photo's
 * probabilities scaled by its model's temperature (`temperatures` of 1: the raw outputs).
 */
export function thresholdReport(
  measured: readonly MeasuredSet[],
  temperatures: readonly number[],
  include: (photo: MeasuredPhoto) => boolean = () => true,
): ThresholdReport {
  const perModel = measured.map((m, i) => {
    const mask = animalIndexMask(m.entry.labels);
    const t = temperatures[i] ?? 1;
    return {
      model: m.entry.id,
      best: m.photos.filter(include).map((p) => bestAnimal(t === 1 ? p : scaled(p, t), mask)),
    };
  });
  const all = perModel.flatMap((m) => m.best);
  const steps = thresholdTradeOff(all, THRESHOLDS).map((step) => ({
    ...step,
    perModel: perModel.map(({ model, best }) => {
      const answered = best.filter((b) => b.confidence >= step.threshold);
      return {
        model,
        answeredShare: answered.length / best.length,
        precision:
          answered.length === 0 ? null : answered.filter((b) => b.right).length / answered.length,
      };
    }),
  }));
  return { current: NOT_SURE_BELOW, photos: all.length, steps };
}

export interface CalibrationReport {
  split: string;
  models: ModelReport[];
  /** The three report splits together, each photo scaled by its own model's T. */
  pooledReport: { photos: number; eceBefore: number; eceAfter: number };
  /** Lines for the model catalogue, one per model, to paste over the committed ones. */
  catalogue: Record<string, string>;
  notSure: {
    raw: ThresholdReport;
    calibrated: ThresholdReport;
    calibratedReportSplit: ThresholdReport;
  };
}

export function calibrationReport(
  measured: readonly MeasuredSet[],
  options: { precision: boolean } = { precision: true },
): CalibrationReport {
  const models = measured.map((m) => modelReport(m, options.precision));
  const temperatures = models.map((m) => m.temperature);
  const pooled = measured.flatMap((m, i) =>
    m.photos
      .filter((p) => p.split === 'report')
      .map((p) => ({ before: topOne(p), after: topOne(scaled(p, temperatures[i]!)) })),
  );
  return {
    split: 'sha256 of the file bytes: first byte even -> fit, odd -> report',
    models,
    pooledReport: {
      photos: pooled.length,
      eceBefore: expectedCalibrationError(pooled.map((p) => p.before)),
      eceAfter: expectedCalibrationError(pooled.map((p) => p.after)),
    },
    catalogue: Object.fromEntries(
      measured.map((m, i) => [m.entry.id, `temperature: ${temperatures[i]!.toFixed(4)},`]),
    ),
    notSure: {
      raw: thresholdReport(
        measured,
        measured.map(() => 1),
      ),
      calibrated: thresholdReport(measured, temperatures),
      calibratedReportSplit: thresholdReport(measured, temperatures, (p) => p.split === 'report'),
    },
  };
}
