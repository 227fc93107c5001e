/**
 * Cache Storage in memory, for the tests of the service worker's caching in Node (which has
 * Request and Response but no caches): what Workbox and src/sw call, no more. Keys are
 * absolute URLs; `onPut` lets a test act at the moment a file is being stored, as another
 * part of the browser would while a download runs.
 */
export const ORIGIN = 'http://localhost';

export class FakeCache {
  readonly entries = new Map<string, Response>();
  onPut: ((url: string) => Promise<void> | void) | null = null;

  private static url(request: RequestInfo | URL): string {
    const raw = request instanceof Request ? request.url : String(request);
    return new URL(raw, ORIGIN).href;
  }

  async match(request: RequestInfo | URL): Promise<Response | undefined> {
    return this.entries.get(FakeCache.url(request))?.clone();
  }

  async put(request: RequestInfo | URL, response: Response): Promise<void> {
    const url = FakeCache.url(request);
    const body = await response.arrayBuffer();
    await this.onPut?.(url);
    this.entries.set(
      url,
      new Response(body, { status: response.status, headers: response.headers }),
    );
  }

  async delete(request: RequestInfo | URL): Promise<boolean> {
    return this.entries.delete(FakeCache.url(request));
  }

  async keys(): Promise<Request[]> {
    return [...this.entries.keys()].map((url) => new Request(url));
  }

  /** The file names stored, as the model caches name them. */
  paths(): string[] {
    return [...this.entries.keys()].map((url) => new URL(url).pathname.split('/').pop() ?? '');
  }
}

export class FakeCacheStorage {
  readonly caches = new Map<string, FakeCache>();

  async open(name: string): Promise<FakeCache> {
    let cache = this.caches.get(name);
    if (cache === undefined) {
      cache = new FakeCache();
      this.caches.set(name, cache);
    }
    return cache;
  }

  async has(name: string): Promise<boolean> {
    return this.caches.has(name);
  }

  async delete(name: string): Promise<boolean> {
    return this.caches.delete(name);
  }

  async keys(): Promise<string[]> {
    return [...this.caches.keys()];
  }

  async match(
    request: RequestInfo | URL,
    options: { cacheName?: string } = {},
  ): Promise<Response | undefined> {
    const names = options.cacheName === undefined ? [...this.caches.keys()] : [options.cacheName];
    for (const name of names) {
      const found = await this.caches.get(name)?.match(request);
      if (found) return found;
    }
    return undefined;
  }
}
