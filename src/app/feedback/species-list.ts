import { animalIndexMask } from '../../core/answer';
import { parseLabels, type Label } from '../../core/labels';
import { fileUrl, type ModelEntry } from '../../core/model-manifest';
import { formatModelRef } from '../../core/model-ref';
import { loadedLabels } from '../inference/inference';

/**
 * The species a user may pick when correcting: the model's labels (from the worker that
 * runs it, else from the server or the offline cache), limited to what counts as an animal.
 */
const loaded = new Map<string, Promise<Label[]>>();

async function fetchLabels(entry: ModelEntry): Promise<Label[]> {
  const response = await fetch(fileUrl(entry, entry.labelsFile));
  if (!response.ok) throw new Error(`labels: HTTP ${response.status}`);
  const parsed = parseLabels(await response.text(), entry.labels);
  if (!parsed.ok) throw new Error(parsed.error.detail ?? parsed.error.message);
  return parsed.value;
}

export function speciesFor(entry: ModelEntry): Promise<Label[]> {
  const key = formatModelRef(entry);
  let list = loaded.get(key);
  if (list === undefined) {
    list = (async () => {
      const isAnimal = animalIndexMask(entry.labels);
      // The worker already holds the running model's labels: no network needed, even offline.
      const all = (await loadedLabels(entry)) ?? (await fetchLabels(entry));
      return all.filter((label) => isAnimal[label.index] === 1);
    })();
    list.catch(() => loaded.delete(key)); // a failed load is tried again next time
    loaded.set(key, list);
  }
  return list;
}
