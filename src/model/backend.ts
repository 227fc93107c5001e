import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName } from '../core/backend-choice';

/** Where the wasm binaries live: a folder URL/path, or a URL per binary (hashed assets). */
export type WasmPaths = string | Record<string, string>;

let wasmPathsSet = false;

/**
 * Makes `name` the active TF.js backend. Returns false (never throws) when the backend
 * cannot start on this device, so the caller can try the next one.
 */
export async function activateBackend(name: BackendName, wasmPaths?: WasmPaths): Promise<boolean> {
  if (name === 'wasm' && !wasmPathsSet && wasmPaths !== undefined) {
    // TF.js reads the paths once, when the wasm backend first initialises.
    setWasmPaths(wasmPaths as never);
    wasmPathsSet = true;
  }
  try {
    if (tf.getBackend() === name) return true;
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
}

export function activeBackend(): BackendName {
  return tf.getBackend() as BackendName;
}

export function tensorCount(): number {
  return tf.memory().numTensors;
}
