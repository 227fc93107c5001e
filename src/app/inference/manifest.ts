import { MODEL_MANIFEST_PATH } from '../../core/cache-policy';
import { fail, ok, type Result } from '../../core/errors';
import { parseChannelManifest, type ChannelManifest } from '../../core/model-channels';

/**
 * The manifest as published, with every channel: small and revalidated at each check, so a
 * new model version or a change of rollout is noticed. Offline the service worker answers
 * with the copy it kept, which resolves to the same versions as before.
 */
export async function fetchChannelManifest(): Promise<Result<ChannelManifest>> {
  let body: unknown;
  try {
    const response = await fetch(MODEL_MANIFEST_PATH, { cache: 'no-cache' });
    if (!response.ok) return fail('MODEL_LOAD_FAILED', `manifest: HTTP ${response.status}`);
    body = await response.json();
  } catch (error) {
    return fail('MODEL_LOAD_FAILED', `manifest: ${String(error)}`);
  }
  const parsed = parseChannelManifest(body);
  return parsed.ok ? ok(parsed.manifest) : fail('MODEL_LOAD_FAILED', parsed.reason);
}
