import { fileUrl, type ModelEntry } from '../core/model-manifest';
import type { FileReader } from '../model/artifacts';

/**
 * Reads a model version's files over HTTP (answered by the service worker's model cache
 * once the model is offline), reporting bytes as they stream in.
 */
export function httpFileReader(entry: ModelEntry): FileReader {
  return async (path, onBytes) => {
    const response = await fetch(fileUrl(entry, path));
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    if (response.body === null) return response.arrayBuffer();
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
      onBytes(received);
    }
    const data = new Uint8Array(received);
    let offset = 0;
    for (const chunk of chunks) {
      data.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return data.buffer;
  };
}
