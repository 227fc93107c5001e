import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendName } from '../core/backend-choice';
import { activateBackend } from '../model/backend';

/**
 * Backend activation for any browser context, kept apart from the backend probe so the
 * bench page can import it: the probe needs WebGPU's types, which only the worker build has.
 */

/** The wasm binaries are our own build assets (hashed, precached), never a CDN. */
export const WASM_PATHS = {
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
};

export function activateBrowserBackend(name: BackendName): Promise<boolean> {
  return activateBackend(name, WASM_PATHS);
}
