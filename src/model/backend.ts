import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { BackendName } from '../core/backend-choice';

/** Where the wasm binaries live: a folder URL/path, or a URL per binary (hashed assets). */
export type WasmPaths = string | Record<string, string>;

let wasmPathsSet = false;

/**
 * Points TF.js's wasm backend at its binaries. TF.js reads the paths once, when the wasm
 * backend first initialises, so only the first call in a context counts.
 */
export function pointWasmAt(wasmPaths: WasmPaths): void {
  if (wasmPathsSet) return;
  setWasmPaths(wasmPaths as never);
  wasmPathsSet = true;
}

/**
 * Makes `name` the active TF.js backend. Returns false (never throws) when the backend
 * cannot start on this device, so the caller can try the next one.
 */
export async function activateBackend(name: BackendName, wasmPaths?: WasmPaths): Promise<boolean> {
  if (name === 'wasm' && wasmPaths !== undefined) pointWasmAt(wasmPaths);
  try {
    if (tf.getBackend() === name) return true;
    if (!(await tf.setBackend(name))) return false;
    await tf.ready();
    return tf.getBackend() === name;
  } catch {
    return false;
  }
}

export function tensorCount(): number {
  return tf.memory().numTensors;
}
