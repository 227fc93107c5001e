import type { BackendName } from '../core/backend-choice';

/**
 * Which backends could run here, probed cheaply without initialising TF.js on each.
 * WebGPU needs a real adapter: `navigator.gpu` alone says nothing (headless Chromium has
 * it and returns no adapter without a flag).
 */
export async function probeBackends(): Promise<BackendName[]> {
  const available: BackendName[] = [];
  try {
    if ('gpu' in navigator && (await navigator.gpu.requestAdapter()) !== null) {
      available.push('webgpu');
    }
  } catch {
    // No WebGPU: nothing to add.
  }
  try {
    if (new OffscreenCanvas(1, 1).getContext('webgl2') !== null) available.push('webgl');
  } catch {
    // No WebGL2 in workers here.
  }
  if (typeof WebAssembly === 'object') available.push('wasm');
  available.push('cpu');
  return available;
}
