import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { appError, type AppError } from '../core/errors';
import { formatModelRef } from '../core/model-ref';
import type { AnswerSummary } from '../core/taxonomy-answer';
import type { Classification, Engine, PreparedPhoto } from '../model/engine';
import { decodePhotoBytes } from '../node/inference/decode-image';
import type { ModelCascade } from '../node/inference/model-cascade';

/** One output line of `npm run classify`, exactly the shape the contract gives. */
export type ClassifyLine =
  | {
      file: string;
      model: string;
      top: { label: string; probability: number }[];
      ms: number;
      answer: AnswerSummary;
      /** `--model auto`, when a specialist answered: the general model and the group it routed on. */
      via?: { model: string; group: string; probability: number };
      /**
       * `--same-animal`: every file the answer combines, in input order; `file` stays the
       * first of them, so that a reader of the one-photo contract still finds a path there.
       */
      files?: string[];
    }
  | { file: string; error: { code: string; message: string } };

/**
 * In a folder walk only these are taken (HEIC and TIFF too, so they get their message);
 * survey folders also hold spreadsheets and notes. A file named explicitly is always tried.
 */
const PHOTO_EXTENSION = /\.(jpe?g|jpe|jfif|png|gif|webp|bmp|dib|avif|heic|heif|tiff?)$/i;

/** Files in the order given; folders expand recursively, entries sorted by name. */
export async function expandPaths(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const given of paths) {
    const info = await stat(given).catch(() => null);
    if (info?.isDirectory()) {
      const entries = await readdir(given, { withFileTypes: true });
      const names = entries
        .filter((e) => !e.name.startsWith('.'))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of names) {
        const child = path.join(given, entry.name);
        if (entry.isDirectory()) files.push(...(await expandPaths([child])));
        else if (entry.isFile() && PHOTO_EXTENSION.test(entry.name)) files.push(child);
      }
    } else {
      files.push(given); // missing files are reported on their own line
    }
  }
  return files;
}

function errorLine(file: string, error: AppError): ClassifyLine {
  return {
    file,
    error: {
      code: error.code,
      message: error.detail ? `${error.message} (${error.detail})` : error.message,
    },
  };
}

/** Reads and decodes each file once, at the input size every model of the run shares. */
async function prepareFiles(files: string[], size: number): Promise<(PreparedPhoto | AppError)[]> {
  const prepared: (PreparedPhoto | AppError)[] = [];
  for (const file of files) {
    const bytes = await readFile(file).catch(() => null);
    if (bytes === null) {
      prepared.push(appError('FILE_UNREADABLE'));
      continue;
    }
    const decoded = await decodePhotoBytes(bytes, size);
    prepared.push(decoded.ok ? decoded.value : decoded.error);
  }
  return prepared;
}

const roundMs = (ms: number) => Math.round(ms * 10) / 10;

/** What `classifyFiles` runs photos through: one model's engine, or the Auto cascade. */
export type PhotoClassifier = Pick<Engine, 'classify' | 'inputSize'>;

/**
 * Classifies files in micro-batches (the same batching the worker does), emitting one
 * line per file in input order, from the model that answered (`via` when a specialist of
 * the cascade did; `ms` counts every model that ran on the photo). A file that cannot be
 * read or decoded gets its error line and the run goes on.
 */
export async function classifyFiles(
  files: string[],
  classifier: PhotoClassifier,
  options: { topK: number; batchSize: number },
  emit: (line: ClassifyLine) => void,
): Promise<{ classified: number; failed: number }> {
  const size = inputSizeOf(classifier);
  let classified = 0;
  let failed = 0;
  for (let start = 0; start < files.length; start += options.batchSize) {
    const chunk = files.slice(start, start + options.batchSize);
    const prepared = await prepareFiles(chunk, size);
    const photos = prepared.filter((p): p is PreparedPhoto => 'image' in p);
    const results = photos.length > 0 ? await classifier.classify(photos, options.topK) : null;
    let next = 0;
    for (const [i, item] of prepared.entries()) {
      const file = chunk[i]!;
      if (!('image' in item)) {
        failed++;
        emit(errorLine(file, item));
      } else if (results === null || !results.ok) {
        failed++;
        emit(errorLine(file, results?.error ?? appError('INFERENCE_FAILED', 'No result.')));
      } else {
        const result = results.value[next++]!;
        classified++;
        emit(
          answerLine([file], result, result.timings.decodeMs + result.timings.inferenceMs, false),
        );
      }
    }
  }
  return { classified, failed };
}

/**
 * `--same-animal`: every file is a photo of one animal, so one line answers for all of
 * them (their outputs combined, see combineOutputs); a file that cannot be read or
 * decoded gets its own error line, printed first, and is left out of the combination.
 */
export async function classifySameAnimal(
  files: string[],
  cascade: ModelCascade,
  options: { topK: number; batchSize: number },
  emit: (line: ClassifyLine) => void,
): Promise<{ classified: number; failed: number }> {
  const prepared = await prepareFiles(files, inputSizeOf(cascade));
  const photos: PreparedPhoto[] = [];
  const combined: string[] = [];
  let failed = 0;
  for (const [i, item] of prepared.entries()) {
    if ('image' in item) {
      photos.push(item);
      combined.push(files[i]!);
    } else {
      failed++;
      emit(errorLine(files[i]!, item));
    }
  }
  if (photos.length === 0) return { classified: 0, failed };
  const results = await cascade.classifyAnimals([photos], options.topK, options.batchSize);
  if (!results.ok) {
    for (const file of combined) emit(errorLine(file, results.error));
    return { classified: 0, failed: failed + combined.length };
  }
  const [animal] = results.value;
  const decodeMs = photos.reduce((sum, photo) => sum + photo.decodeMs, 0);
  emit(
    answerLine(
      combined,
      { ...animal!.explanation, routing: animal!.routing ?? undefined },
      decodeMs + animal!.inferenceMs,
      true,
    ),
  );
  return { classified: combined.length, failed };
}

function inputSizeOf(classifier: PhotoClassifier): number {
  const size = classifier.inputSize();
  if (size === null) throw new Error('classifyFiles needs a loaded model');
  return size;
}

/** The contract's line for an answer, from whichever model gave it. */
function answerLine(
  files: string[],
  result: Pick<Classification, 'model' | 'rawTop' | 'summary' | 'routing'>,
  ms: number,
  sameAnimal: boolean,
): ClassifyLine {
  if (result.summary === undefined) throw new Error('the Node engine gives every photo a summary');
  const via = result.routing?.via;
  return {
    file: files[0]!,
    ...(sameAnimal ? { files } : {}),
    model: formatModelRef(result.model),
    top: result.rawTop.map(({ label, probability }) => ({ label, probability })),
    ms: roundMs(ms),
    answer: result.summary,
    ...(via
      ? {
          via: { model: formatModelRef(via.model), group: via.group, probability: via.probability },
        }
      : {}),
  };
}
