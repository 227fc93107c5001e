import type { ImageSource } from '../../worker/api/protocol';
import { recordIdentification } from '../history/recording';
import { identify, identifyAnimal } from '../inference/inference';
import {
  isCurrentPhoto,
  photoFailed,
  photoIdentified,
  photoStarted,
  resultPainted,
} from './identify-store';

/** One photo on the Identify screen: to the worker, into the history, onto the screen. */

function afterPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

export async function identifyPhoto(
  source: ImageSource,
  name: string,
  preview: Blob | null,
  startedAt = performance.now(),
): Promise<void> {
  // The photo goes to the worker first; the page renders its "working" state meanwhile.
  const identified = identify(source, name);
  const id = photoStarted(name, preview);
  const result = await identified;
  // Recorded even when a newer photo has taken its place: it was identified all the same.
  const observationId = result.ok ? recordIdentification(name, result.value) : null;
  if (!result.ok) {
    photoFailed(id, result.error);
    return;
  }
  photoIdentified(id, result.value, observationId);
  if (!isCurrentPhoto(id)) return;
  await afterPaint();
  resultPainted(id, performance.now() - startedAt);
}

/**
 * Photos the user said show the same animal: one answer from all of them (and one entry in
 * the history), with each photo's own answer kept beside it.
 */
export async function identifySameAnimal(files: File[]): Promise<void> {
  const startedAt = performance.now();
  const identified = identifyAnimal(
    files.map((file) => ({ source: { kind: 'blob', blob: file }, name: file.name })),
  );
  const name = `${files[0]!.name} and ${files.length - 1} more, one animal`;
  const id = photoStarted(name, files[0]!);
  const result = await identified;
  if (!result.ok) {
    photoFailed(id, result.error);
    return;
  }
  const { combined, photos } = result.value;
  const observationId = recordIdentification(name, combined);
  photoIdentified(
    id,
    combined,
    observationId,
    photos.map((one, i) => ({ name: files[i]!.name, result: one })),
  );
  if (!isCurrentPhoto(id)) return;
  await afterPaint();
  resultPainted(id, performance.now() - startedAt);
}

export function identifyFile(file: File, startedAt?: number): Promise<void> {
  return identifyPhoto({ kind: 'blob', blob: file }, file.name, file, startedAt);
}
