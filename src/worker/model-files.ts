import { fileUrl, type ModelEntry } from '../core/model-manifest';
import type { FileReader } from '../model/artifacts';
import { readBody } from '../core/read-body';

/**
 * Reads a model version's files over HTTP (answered by the service worker's model cache
 * once the model is offline), reporting bytes as they stream in.
 */
export function httpFileReader(entry: ModelEntry): FileReader {
  return async (path, onBytes) => {
    const response = await fetch(fileUrl(entry, path));
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return readBody(response, onBytes);
  };
}
