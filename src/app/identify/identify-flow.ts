import type { ImageSource } from '../../worker/api/protocol';
import { recordIdentification } from '../history/recording';
import { identify } from '../inference/inference';
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

export function identifyFile(file: File, startedAt?: number): Promise<void> {
  return identifyPhoto({ kind: 'blob', blob: file }, file.name, file, startedAt);
}
