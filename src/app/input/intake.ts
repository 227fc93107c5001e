import { startBatch } from '../batch/batch-flow';
import { identifyFile, identifyPhoto } from '../identify/identify-flow';
import { inputRefused } from '../identify/identify-store';
import { showScreen } from '../shell/screen-store';
import { fetchImage } from './fetch-image';

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
    inputRefused(address.slice(0, 80), fetched.error);
    return;
  }
  const { blob, name } = fetched.value;
  await identifyPhoto({ kind: 'blob', blob }, name, blob, startedAt);
}

export function takeBitmap(bitmap: ImageBitmap, preview: Blob | null): Promise<void> {
  showScreen('identify');
  return identifyPhoto({ kind: 'bitmap', bitmap }, 'camera photo', preview);
}
