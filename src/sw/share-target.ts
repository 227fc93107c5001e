/// <reference lib="webworker" />
import { SHARE_CACHE } from '../core/cache-policy';

/**
 * Photos shared to the installed app (Web Share Target, POST multipart) are parked in a
 * cache and the app is opened on /?shared=N, where the page picks them up and identifies them.
 */

export async function receiveShare(request: Request): Promise<Response> {
  let files: File[];
  try {
    const form = await request.formData();
    files = form.getAll('photos').filter((v): v is File => v instanceof File);
  } catch {
    files = [];
  }
  const cache = await caches.open(SHARE_CACHE);
  await Promise.all(
    files.map((file, i) =>
      cache.put(
        `/shared/${i}`,
        new Response(file, {
          headers: {
            'content-type': file.type || 'application/octet-stream',
            'x-file-name': encodeURIComponent(file.name || `shared-${i + 1}`),
          },
        }),
      ),
    ),
  );
  return Response.redirect(`/?shared=${files.length}`, 303);
}
