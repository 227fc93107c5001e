/** A photo held in memory, so fetching it is never part of a timing. */
export interface HeldPhoto {
  name: string;
  blob: Blob;
}

export async function fetchPhotos(urls: string[]): Promise<HeldPhoto[]> {
  return Promise.all(
    urls.map(async (url) => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
      return { name: decodeURIComponent(url.split('/').pop() ?? url), blob: await response.blob() };
    }),
  );
}

/** The photos for `count` requests of `size`, taking the list round and round. */
export function requestsOf(photos: HeldPhoto[], count: number, size: number): HeldPhoto[][] {
  if (photos.length === 0) throw new Error('no photos');
  return Array.from({ length: count }, (_, r) =>
    Array.from({ length: size }, (_, i) => photos[(r * size + i) % photos.length]!),
  );
}

/** Index of the largest value: the top-1 class, to check two runs agree. */
export function argMax(values: ArrayLike<number>): number | null {
  let best: number | null = null;
  for (let i = 0; i < values.length; i++) {
    if (best === null || values[i]! > values[best]!) best = i;
  }
  return best;
}

export function progress(message: string): void {
  console.info(`[bench] ${message}`);
}
