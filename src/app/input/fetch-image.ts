import { DEFAULT_IMAGE_LIMITS } from '../../core/image-validation';
import { fail, ok, type Result } from '../../core/errors';

/**
 * Fetches an image given as an http(s) address or a `data:` URL. Browsers do not say why
 * a cross-origin fetch failed; when we are online and the host is another site, the
 * usual reason is that it does not allow CORS, and the message says so.
 */
export async function fetchImage(address: string): Promise<Result<{ blob: Blob; name: string }>> {
  let url: URL;
  try {
    url = new URL(address.trim(), location.href);
  } catch {
    return fail('INVALID_URL');
  }
  if (!['http:', 'https:', 'data:', 'blob:'].includes(url.protocol)) return fail('INVALID_URL');
  let response: Response;
  try {
    response = await fetch(url, { mode: 'cors', credentials: 'omit' });
  } catch (error) {
    const crossOrigin = url.protocol.startsWith('http') && url.origin !== location.origin;
    if (crossOrigin && navigator.onLine) return fail('CORS_BLOCKED', String(error));
    return fail('FETCH_FAILED', String(error));
  }
  if (!response.ok) return fail('FETCH_FAILED', `HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > DEFAULT_IMAGE_LIMITS.maxBytes) return fail('TOO_LARGE');
  const blob = await response.blob();
  const name =
    url.protocol === 'data:'
      ? 'pasted-image'
      : decodeURIComponent(url.pathname.split('/').pop() || 'image');
  return ok({ blob, name });
}
