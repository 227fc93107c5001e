import { startBatch } from '../batch/batch-flow';
import { identifyFile, identifyPhoto, identifySameAnimal } from '../identify/identify-flow';
import { inputRefused } from '../identify/identify-store';
import { showScreen } from '../shell/screen-store';
import { fetchImage, imageName } from './fetch-image';

/**
 * Every way in ends here: one photo is identified on the spot, several become a batch, or
 * one answer when the user said they show the same animal.
 */
export function takeFiles(
  files: File[],
  startedAt = performance.now(),
  { sameAnimal = false }: { sameAnimal?: boolean } = {},
): void {
  if (files.length === 0) return;
  if (sameAnimal && files.length > 1) {
    showScreen('identify');
    void identifySameAnimal(files);
  } else if (files.length === 1) {
    showScreen('identify');
    void identifyFile(files[0]!, startedAt);
  } else {
    showScreen('batch');
    void startBatch(files);
  }
}

export async function takeAddress(address: string): Promise<void> {
  const startedAt = performance.now();
  showScreen('identify');
  const fetched = await fetchImage(address);
  if (!fetched.ok) {
    // Under the name the photo would have had, so that a refusal reads like one of its result
    // (a data: URL's base64 text would say nothing).
    inputRefused(imageName(address), fetched.error);
    return;
  }
  const { blob, name } = fetched.value;
  await identifyPhoto({ kind: 'blob', blob }, name, blob, startedAt);
}
