import { toPrediction, translateOutput, topK, type Answer, type Prediction } from '../core/answer';
import type { BackendName } from '../core/backend-choice';
import { applyTemperature } from '../core/calibration';
import { fail, ok, type Result, type WarningCode } from '../core/errors';
import { parseLabels, type Label } from '../core/labels';
import { modelRefOf, type ModelEntry } from '../core/model-manifest';
import { sameModel, type ModelRef } from '../core/model-ref';
import type { Routing } from '../core/cascade';
import type { AnswerSummary, Summariser } from '../core/taxonomy-answer';
import {
  loadModelArtifacts,
  type DownloadProgress,
  type FileReader,
  type ModelArtifactsBundle,
} from './artifacts';
import { tensorCount } from './backend';
import { createClassifier, type Classifier } from './classifier';
import type { RgbaImage } from './preprocess';

/**
 * One model on one backend at a time: load, warm up, classify prepared photos into
 * answers. The browser worker's message loop and the Node CLI both drive this same code;
 * it knows nothing of messages, the DOM or the file system.
 */

/**
 * Photos per inference call, for the worker and the CLI alike: bigger batches amortise
 * per-call overhead, smaller ones answer sooner.
 */
export const MICRO_BATCH = 8;

export interface ItemTimings {
  /** Validation, decoding and pixel extraction of this photo. */
  decodeMs: number;
  /** This photo's share of its micro-batch's inference. */
  inferenceMs: number;
  batchSize: number;
}

export interface Classification {
  answer: Answer;
  /** The contract's answer (species, group, not sure, no animal, with its groups), when the engine was given a summariser. */
  summary?: AnswerSummary;
  /** Top predictions over every output class, labels exactly as in labels.txt. */
  rawTop: Prediction[];
  /** How Auto mode came to this answer; absent when one model answered alone. */
  routing?: Routing;
  model: ModelRef;
  backend: BackendName;
  timings: ItemTimings;
  warnings: WarningCode[];
  /** Oriented size of the photo as decoded. */
  width: number;
  height: number;
}

/** The part of a classification that comes from the output alone. */
export type Explanation = Pick<Classification, 'answer' | 'summary' | 'rawTop' | 'model'>;

export interface LoadedModel {
  model: ModelRef;
  backend: BackendName;
  loadMs: number;
  warmUpMs: number;
}
/** Builds, once per loaded model, what turns one output into its summary and names its classes. */
export type SummariserFactory = (entry: ModelEntry, labels: readonly Label[]) => Summariser;

export interface EngineDeps {
  activateBackend(name: BackendName): Promise<boolean>;
  fileReader(entry: ModelEntry): FileReader;
  /**
   * Injected rather than imported, so that the engine's tests and the benchmark's plain
   * model page run without the group table; without it answers carry no summary and the
   * label files' own names.
   */
  summariser?: SummariserFactory;
}

export interface PreparedPhoto {
  image: RgbaImage;
  width: number;
  height: number;
  warnings: WarningCode[];
  decodeMs: number;
}

interface LoadedState {
  entry: ModelEntry;
  bundle: ModelArtifactsBundle;
  labels: Label[];
  summariser: Summariser | null;
  classifier: Classifier;
  backend: BackendName;
}

export interface Engine {
  load(
    entry: ModelEntry,
    backends: BackendName[],
    onProgress?: (p: DownloadProgress) => void,
  ): Promise<Result<LoadedModel>>;
  switchBackend(backend: BackendName): Promise<Result<LoadedModel>>;
  classify(photos: PreparedPhoto[], k: number): Promise<Result<Classification[]>>;
  /**
   * The calibrated outputs (one probability per label line, per photo, at the label spec's
   * temperature) and each photo's share of
   * the inference time, for callers that combine outputs (routing to a specialist, several
   * photos of one animal) before they are read.
   */
  infer(photos: PreparedPhoto[]): Promise<Result<{ outputs: Float32Array[]; inferenceMs: number }>>;
  /** What `classify` makes of one output, for an output the caller computed or combined. */
  explain(probabilities: Float32Array, k: number): Result<Explanation>;
  /** Times `runs` warm inferences at `batchSize`, stopping early above `dropAboveMs`. */
  benchmark(
    runs: number,
    batchSize: number,
    dropAboveMs: number | null,
  ): Promise<Result<{ samplesMs: number[]; dropped: boolean }>>;
  inputSize(): number | null;
  /** The loaded model's labels, so the page can offer them without fetching anything. */
  labels(): { model: ModelRef; labels: Label[] } | null;
  backend(): BackendName | null;
  numTensors(): number;
  /** Frees the model's weights; the engine loads again on the next `load`. */
  unload(): void;
}

/** A candidate under the name people use; its label line stays as in labels.txt. */
function named(prediction: Prediction, summariser: Summariser): Prediction {
  const taxon = summariser.taxonOf(prediction.index);
  return taxon === undefined
    ? prediction
    : { ...prediction, name: taxon.name, scientificName: taxon.scientificName };
}

/** The model's outputs at its calibrating temperature: what every answer is read from. */
function calibrated(outputs: Float32Array[], temperature: number): Float32Array[] {
  if (temperature === 1) return outputs;
  return outputs.map((output) => Float32Array.from(applyTemperature(output, temperature)));
}

export function createEngine(deps: EngineDeps): Engine {
  let state: LoadedState | null = null;

  async function startOn(
    backends: BackendName[],
    entry: ModelEntry,
    bundle: ModelArtifactsBundle,
    labels: Label[],
  ): Promise<Result<LoadedModel>> {
    for (const backend of backends) {
      if (!(await deps.activateBackend(backend))) continue;
      const started = performance.now();
      let classifier: Classifier;
      try {
        classifier = await createClassifier(entry, bundle);
      } catch {
        continue;
      }
      const loadMs = performance.now() - started;
      let warmUpMs: number;
      try {
        warmUpMs = await classifier.warmUp();
      } catch {
        classifier.dispose();
        continue;
      }
      state?.classifier.dispose();
      const summariser = deps.summariser?.(entry, labels) ?? null;
      state = { entry, bundle, labels, summariser, classifier, backend };
      return ok({ model: modelRefOf(entry), backend: state.backend, loadMs, warmUpMs });
    }
    return fail('BACKEND_UNAVAILABLE', `tried ${backends.join(', ')}`);
  }

  const infer: Engine['infer'] = async (photos) => {
    if (state === null) return fail('MODEL_LOAD_FAILED', 'no model loaded');
    const started = performance.now();
    try {
      const outputs = calibrated(
        await state.classifier.classify(photos.map((p) => p.image)),
        state.entry.labels.temperature ?? 1,
      );
      return ok({ outputs, inferenceMs: (performance.now() - started) / photos.length });
    } catch (error) {
      return fail('INFERENCE_FAILED', String(error));
    }
  };

  const explain: Engine['explain'] = (probabilities, k) => {
    if (state === null) return fail('MODEL_LOAD_FAILED', 'no model loaded');
    const { entry, labels, summariser } = state;
    const answer = translateOutput(probabilities, labels, entry.labels, { topK: k });
    if (!answer.ok) return answer;
    const summary = summariser?.describe(probabilities);
    if (summary && !summary.ok) return summary;
    return ok({
      answer: summariser
        ? { ...answer.value, top: answer.value.top.map((p) => named(p, summariser)) }
        : answer.value,
      ...(summary ? { summary: summary.value } : {}),
      rawTop: topK(probabilities, k).map(({ index, probability }) =>
        toPrediction(labels[index]!, probability),
      ),
      model: modelRefOf(entry),
    });
  };

  return {
    infer,
    explain,

    async load(entry, backends, onProgress) {
      const started = performance.now();
      const same = state !== null && sameModel(state.entry, entry);
      let bundle = same ? state!.bundle : null;
      if (bundle === null) {
        const loaded = await loadModelArtifacts(entry, deps.fileReader(entry), onProgress);
        if (!loaded.ok) return loaded;
        bundle = loaded.value;
      }
      const labels = parseLabels(bundle.labelsText, entry.labels);
      if (!labels.ok) return fail('MODEL_LOAD_FAILED', labels.error.detail);
      const result = await startOn(backends, entry, bundle, labels.value);
      if (!result.ok) return result;
      // Report download + graph construction, as the user experienced it.
      return ok({ ...result.value, loadMs: performance.now() - started - result.value.warmUpMs });
    },

    async switchBackend(backend) {
      if (state === null) return fail('MODEL_LOAD_FAILED', 'no model loaded');
      if (state.backend === backend) {
        return ok({ model: modelRefOf(state.entry), backend, loadMs: 0, warmUpMs: 0 });
      }
      const previous = state.backend;
      const result = await startOn([backend], state.entry, state.bundle, state.labels);
      if (!result.ok) await deps.activateBackend(previous);
      return result;
    },

    async classify(photos, k) {
      if (state === null) return fail('MODEL_LOAD_FAILED', 'no model loaded');
      const { backend } = state;
      const inferred = await infer(photos);
      if (!inferred.ok) return inferred;
      const { outputs, inferenceMs } = inferred.value;
      const classifications: Classification[] = [];
      for (const [i, photo] of photos.entries()) {
        const explained = explain(outputs[i]!, k);
        if (!explained.ok) return explained;
        classifications.push({
          ...explained.value,
          backend,
          timings: { decodeMs: photo.decodeMs, inferenceMs, batchSize: photos.length },
          warnings: photo.warnings,
          width: photo.width,
          height: photo.height,
        });
      }
      return ok(classifications);
    },

    async benchmark(runs, batchSize, dropAboveMs) {
      if (state === null) return fail('MODEL_LOAD_FAILED', 'no model loaded');
      const samplesMs: number[] = [];
      try {
        await state.classifier.warmUp(batchSize);
        for (let i = 0; i < runs; i++) {
          const ms = (await state.classifier.warmUp(batchSize)) / batchSize;
          samplesMs.push(ms);
          if (dropAboveMs !== null && ms > dropAboveMs) return ok({ samplesMs, dropped: true });
        }
      } catch (error) {
        return fail('INFERENCE_FAILED', String(error));
      }
      return ok({ samplesMs, dropped: false });
    },

    inputSize: () => state?.entry.input.size ?? null,
    labels: () => (state ? { model: modelRefOf(state.entry), labels: state.labels } : null),
    backend: () => state?.backend ?? null,
    numTensors: tensorCount,
    unload() {
      state?.classifier.dispose();
      state = null;
    },
  };
}
