import { showScreen } from '../stores/ui-store';
import { fetchImage } from '../input/fetch-image';
import { identifyFile, identifyPhoto, showInputError, startBatch } from './photo-flow';

/** Every way in ends here: one photo is identified on the spot, several become a batch. */
export function takeFiles(files: File[], startedAt = performance.now()): void {
  if (files.length === 0) return;
  if (files.length === 1) {
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
    showInputError(address.slice(0, 80), fetched);
    return;
  }
  const { blob, name } = fetched.value;
  await identifyPhoto({ kind: 'blob', blob }, name, URL.createObjectURL(blob), startedAt);
}

export function takeBitmap(bitmap: ImageBitmap, previewUrl: string | null): Promise<void> {
  showScreen('identify');
  return identifyPhoto({ kind: 'bitmap', bitmap }, 'camera photo', previewUrl);
}
