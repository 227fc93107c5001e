import { DEFAULT_IMAGE_LIMITS } from '../../core/image-validation';
import { fail, ok, type Result } from '../../core/errors';

/**
 * Fetches an image given as an http(s) address or a `data:` URL, and when that fails says
 * why as far as the browser lets a page know. A failed cross-origin fetch is one TypeError
 * whether the site is down or refuses CORS; a second, `no-cors` request tells them apart,
 * because it needs no permission from the site: a response (opaque) means the site answered
 * and only CORS stood in the way; a failure again means it could not be reached.
 */

export interface FetchedImage {
  blob: Blob;
  name: string;
}

/** What the browser reported about responses it blocked during a `no-cors` request. */
export type EmbedderBlock = 'this-address' | 'another-address' | 'none';

export interface EmbedderBlockWatch {
  /** After the request failed: the block reported for it, if any. */
  seen(): Promise<EmbedderBlock>;
  stop(): void;
}

/**
 * The page's embedder policy (COEP `require-corp`, which the threaded wasm backend needs)
 * blocks a `no-cors` response from a site that sends no CORP header, and the page sees the
 * same TypeError as for a site that cannot be reached. Chromium reports such a block to a
 * ReportingObserver, so the block itself shows that the site answered.
 */
export type EmbedderPolicy =
  | { kind: 'none' }
  | { kind: 'reported'; watch(url: URL): EmbedderBlockWatch }
  /** Blocks may happen unseen: a failed `no-cors` request proves nothing. */
  | { kind: 'unobservable' };

export interface FetchImageDeps {
  fetch(url: URL, init: RequestInit): Promise<Response>;
  isOnline(): boolean;
  /** The page's address: relative addresses resolve against it, and it says what is cross-origin. */
  pageUrl: string;
  embedderPolicy(): EmbedderPolicy;
}

export async function fetchImage(
  address: string,
  deps: FetchImageDeps = browserDeps(),
): Promise<Result<FetchedImage>> {
  let url: URL;
  try {
    url = new URL(address.trim(), deps.pageUrl);
  } catch {
    return fail('INVALID_URL');
  }
  if (!['http:', 'https:', 'data:', 'blob:'].includes(url.protocol)) return fail('INVALID_URL');
  const crossOrigin =
    url.protocol.startsWith('http') && url.origin !== new URL(deps.pageUrl).origin;
  // Plain http from another site never arrives: an https page blocks it as mixed content, and
  // the app's Content-Security-Policy (connect-src) allows other sites over https only.
  if (crossOrigin && url.protocol === 'http:') return fail('INSECURE_URL');
  let response: Response;
  try {
    response = await deps.fetch(url, { mode: 'cors', credentials: 'omit' });
  } catch (error) {
    return whyItFailed(url, crossOrigin, String(error), deps);
  }
  if (!response.ok) return fail('FETCH_FAILED', `HTTP ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > DEFAULT_IMAGE_LIMITS.maxBytes) return fail('TOO_LARGE');
  let blob: Blob;
  try {
    blob = await response.blob();
  } catch (error) {
    return fail(deps.isOnline() ? 'FETCH_FAILED' : 'OFFLINE', String(error));
  }
  return ok({ blob, name: imageName(url) });
}

/** The name an image from `address` is shown under, whether it arrives or not. */
export function imageName(address: URL | string): string {
  let url: URL;
  try {
    url = new URL(String(address).trim());
  } catch {
    return String(address).trim().slice(0, 80);
  }
  if (url.protocol === 'data:') return 'pasted-image';
  const last = url.pathname.split('/').pop() || 'image';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

async function whyItFailed(
  url: URL,
  crossOrigin: boolean,
  detail: string,
  deps: FetchImageDeps,
): Promise<Result<never>> {
  // Reading a data: URL involves no network: it fails only when the URL is malformed.
  if (url.protocol === 'data:') return fail('INVALID_URL', detail);
  if (url.protocol === 'blob:') return fail('FETCH_FAILED', detail);
  if (!deps.isOnline()) return fail('OFFLINE', detail);
  if (!crossOrigin) return fail('FETCH_FAILED', detail);
  const policy = deps.embedderPolicy();
  const watch = policy.kind === 'reported' ? policy.watch(url) : null;
  try {
    await deps.fetch(url, { mode: 'no-cors', credentials: 'omit' });
    return fail('CORS_BLOCKED', detail);
  } catch (probeError) {
    const probeDetail = `${detail}; no-cors: ${String(probeError)}`;
    if (policy.kind === 'unobservable') return fail('FETCH_FAILED', probeDetail);
    const block = watch ? await watch.seen() : 'none';
    if (block === 'this-address') {
      return fail('CORS_BLOCKED', `${probeDetail}; answered without CORS or CORP headers`);
    }
    // A block reported for another address may be this one after a redirect: say no more
    // than that the download failed.
    if (block === 'another-address') return fail('FETCH_FAILED', probeDetail);
    return fail('HOST_UNREACHABLE', probeDetail);
  } finally {
    watch?.stop();
  }
}

/**
 * How long a failed `no-cors` request waits for the report of a block. Chromium delivers it
 * within a task of the failure; the wait bounds only how long an unreachable site takes to
 * be reported, since a block ends the wait as soon as it is seen.
 */
const BLOCK_REPORT_WAIT_MS = 500;

function watchEmbedderBlocks(url: URL): EmbedderBlockWatch {
  let block: EmbedderBlock = 'none';
  let notify = () => {};
  const take = (reports: Report[]) => {
    for (const report of reports) {
      const body = report.type === 'coep' ? (report.body?.toJSON() as unknown) : null;
      if (!isRecord(body) || body.type !== 'corp') continue;
      if (body.blockedURL === url.href) block = 'this-address';
      else if (block === 'none' && body.destination === '') block = 'another-address';
    }
    if (block === 'this-address') notify();
  };
  const observer = new ReportingObserver((reports) => take(reports), { types: ['coep'] });
  observer.observe();
  return {
    seen: () =>
      new Promise((resolve) => {
        take(observer.takeRecords());
        if (block === 'this-address') {
          resolve(block);
          return;
        }
        const timer = setTimeout(() => resolve(block), BLOCK_REPORT_WAIT_MS);
        notify = () => {
          clearTimeout(timer);
          resolve(block);
        };
      }),
    stop: () => observer.disconnect(),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function browserDeps(): FetchImageDeps {
  return {
    fetch: (url, init) => fetch(url, init),
    isOnline: () => navigator.onLine,
    pageUrl: location.href,
    // The server sends COEP together with COOP, so a page under an embedder policy is
    // cross-origin isolated.
    embedderPolicy: () =>
      !crossOriginIsolated
        ? { kind: 'none' }
        : typeof ReportingObserver === 'function'
          ? { kind: 'reported', watch: watchEmbedderBlocks }
          : { kind: 'unobservable' },
  };
}
