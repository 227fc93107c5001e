import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendName } from '../core/backend-choice';
import { activateBackend } from '../model/backend';

/** The wasm binaries are our own build assets (hashed, precached), never a CDN. */
const WASM_PATHS = {
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
};

export function activateBrowserBackend(name: BackendName): Promise<boolean> {
  return activateBackend(name, WASM_PATHS);
}

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
