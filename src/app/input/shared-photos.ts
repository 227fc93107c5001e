import { SHARE_CACHE } from '../../core/cache-policy';
import { takeFiles } from './intake';

/** Photos shared to the installed app arrive through the service worker; identify them now. */
export async function takeSharedPhotos(): Promise<void> {
  const params = new URLSearchParams(location.search);
  if (!params.has('shared') || typeof caches === 'undefined') return;
  history.replaceState(null, '', '/');
  const cache = await caches.open(SHARE_CACHE);
  const files: File[] = [];
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    if (!response) continue;
    const name = decodeURIComponent(response.headers.get('x-file-name') ?? 'shared photo');
    files.push(
      new File([await response.blob()], name, { type: response.headers.get('content-type') ?? '' }),
    );
  }
  await caches.delete(SHARE_CACHE);
  takeFiles(files);
}
