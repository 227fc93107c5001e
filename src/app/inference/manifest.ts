import { MODEL_MANIFEST_PATH } from '../../core/cache-policy';
import { fail, ok, type Result } from '../../core/errors';
import { parseChannelManifest, stableView } from '../../core/model-channels';
import type { ModelManifest } from '../../core/model-manifest';

/** The manifest is small and revalidated each start, so a new model version is noticed. */
export async function fetchModelManifest(): Promise<Result<ModelManifest>> {
  let body: unknown;
  try {
    const response = await fetch(MODEL_MANIFEST_PATH, { cache: 'no-cache' });
    if (!response.ok) return fail('MODEL_LOAD_FAILED', `manifest: HTTP ${response.status}`);
    body = await response.json();
  } catch (error) {
    return fail('MODEL_LOAD_FAILED', `manifest: ${String(error)}`);
  }
  const parsed = parseChannelManifest(body);
  return parsed.ok ? ok(stableView(parsed.manifest)) : fail('MODEL_LOAD_FAILED', parsed.reason);
}
