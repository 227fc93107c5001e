import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../core/errors';
import { DEFAULT_IMAGE_LIMITS } from '../../core/image-validation';
import {
  fetchImage,
  imageName,
  type EmbedderBlock,
  type EmbedderPolicy,
  type FetchImageDeps,
} from './fetch-image';

/**
 * How a failed image address is explained, with the network replaced by scripted answers:
 * each request gets the next answer, and the requests are recorded.
 */

const PAGE = 'https://fieldid.example/';
const OTHER_SITE = 'https://photos.example.org/birds/blue%20jay.jpg';

type Answer = Response | Error;

function network(answers: Answer[], options: Partial<Omit<FetchImageDeps, 'fetch'>> = {}) {
  const requests: { url: string; init: RequestInit }[] = [];
  const deps: FetchImageDeps = {
    fetch: async (url, init) => {
      requests.push({ url: url.href, init });
      const answer = answers.shift();
      if (answer === undefined) throw new Error('no answer scripted for this request');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    isOnline: () => true,
    pageUrl: PAGE,
    embedderPolicy: () => ({ kind: 'none' }),
    ...options,
  };
  return { deps, requests };
}

const failedToFetch = () => new TypeError('Failed to fetch');
const image = () => new Response(new Uint8Array([0xff, 0xd8, 0xff]), { status: 200 });

/** An embedder policy whose browser reports `block` for the `no-cors` request. */
function reporting(block: EmbedderBlock) {
  const watched: string[] = [];
  let stopped = 0;
  const policy: EmbedderPolicy = {
    kind: 'reported',
    watch: (url) => {
      watched.push(url.href);
      return { seen: async () => block, stop: () => void stopped++ };
    },
  };
  return { policy, watched, stopped: () => stopped };
}

function codeOf(result: Awaited<ReturnType<typeof fetchImage>>): ErrorCode | 'ok' {
  return result.ok ? 'ok' : result.error.code;
}

describe('fetchImage', () => {
  it('fetches an image another site allows, without credentials, named after its file', async () => {
    const { deps, requests } = network([image()]);
    const result = await fetchImage(`  ${OTHER_SITE} `, deps);
    expect(result.ok && result.value.name).toBe('blue jay.jpg');
    expect(result.ok && result.value.blob.size).toBe(3);
    expect(requests).toEqual([{ url: OTHER_SITE, init: { mode: 'cors', credentials: 'omit' } }]);
  });

  it('refuses what is not an image address before any request', async () => {
    for (const address of ['http://', 'ftp://photos.example.org/a.jpg', 'javascript:alert(1)']) {
      const { deps, requests } = network([]);
      expect(codeOf(await fetchImage(address, deps))).toBe('INVALID_URL');
      expect(requests).toEqual([]);
    }
  });

  it('refuses plain http from another site, which the page may not read', async () => {
    const { deps, requests } = network([]);
    const result = await fetchImage('http://photos.example.org/a.jpg', deps);
    expect(codeOf(result)).toBe('INSECURE_URL');
    expect(requests).toEqual([]);
  });

  it('fetches plain http from its own site (development on localhost)', async () => {
    const { deps } = network([image()], { pageUrl: 'http://localhost:5173/' });
    expect(codeOf(await fetchImage('/icons/icon.png', deps))).toBe('ok');
  });

  it('reports an HTTP error and a declared size over the limit', async () => {
    const missing = network([new Response('no', { status: 404 })]);
    const notFound = await fetchImage(OTHER_SITE, missing.deps);
    expect(!notFound.ok && notFound.error).toMatchObject({
      code: 'FETCH_FAILED',
      detail: 'HTTP 404',
    });

    const huge = new Response('x', {
      headers: { 'content-length': String(DEFAULT_IMAGE_LIMITS.maxBytes + 1) },
    });
    expect(codeOf(await fetchImage(OTHER_SITE, network([huge]).deps))).toBe('TOO_LARGE');
  });

  it('says the device is offline, without a second request, when the browser knows it is', async () => {
    const { deps, requests } = network([failedToFetch()], { isOnline: () => false });
    expect(codeOf(await fetchImage(OTHER_SITE, deps))).toBe('OFFLINE');
    expect(requests).toHaveLength(1);
  });

  it('tells a site that answers without CORS from one that cannot be reached', async () => {
    const answers = network([failedToFetch(), new Response(null, { status: 200 })]);
    const refused = await fetchImage(OTHER_SITE, answers.deps);
    expect(codeOf(refused)).toBe('CORS_BLOCKED');
    expect(answers.requests.map((r) => r.init)).toEqual([
      { mode: 'cors', credentials: 'omit' },
      { mode: 'no-cors', credentials: 'omit' },
    ]);

    const down = network([failedToFetch(), failedToFetch()]);
    const unreachable = await fetchImage(OTHER_SITE, down.deps);
    expect(codeOf(unreachable)).toBe('HOST_UNREACHABLE');
    expect(down.requests).toHaveLength(2);
  });

  it('under an embedder policy, counts a reported block of the address as an answer', async () => {
    const blocked = reporting('this-address');
    const { deps } = network([failedToFetch(), failedToFetch()], {
      embedderPolicy: () => blocked.policy,
    });
    expect(codeOf(await fetchImage(OTHER_SITE, deps))).toBe('CORS_BLOCKED');
    expect(blocked.watched).toEqual([OTHER_SITE]);
    expect(blocked.stopped()).toBe(1);
  });

  it('under an embedder policy, with no block reported, the site could not be reached', async () => {
    const quiet = reporting('none');
    const { deps } = network([failedToFetch(), failedToFetch()], {
      embedderPolicy: () => quiet.policy,
    });
    expect(codeOf(await fetchImage(OTHER_SITE, deps))).toBe('HOST_UNREACHABLE');
    expect(quiet.stopped()).toBe(1);
  });

  it('claims neither reason when the evidence does not decide', async () => {
    // A block of another address (perhaps where this one redirects to).
    const elsewhere = reporting('another-address');
    const redirected = network([failedToFetch(), failedToFetch()], {
      embedderPolicy: () => elsewhere.policy,
    });
    expect(codeOf(await fetchImage(OTHER_SITE, redirected.deps))).toBe('FETCH_FAILED');

    // A browser that enforces the policy but does not report its blocks.
    const unseen = network([failedToFetch(), failedToFetch()], {
      embedderPolicy: () => ({ kind: 'unobservable' }),
    });
    expect(codeOf(await fetchImage(OTHER_SITE, unseen.deps))).toBe('FETCH_FAILED');
  });

  it('an opaque answer is an answer under any embedder policy', async () => {
    const { deps } = network([failedToFetch(), new Response(null)], {
      embedderPolicy: () => ({ kind: 'unobservable' }),
    });
    expect(codeOf(await fetchImage(OTHER_SITE, deps))).toBe('CORS_BLOCKED');
  });

  it('asks no second question where CORS plays no part', async () => {
    const own = network([failedToFetch()]);
    expect(codeOf(await fetchImage('/photos/a.jpg', own.deps))).toBe('FETCH_FAILED');
    expect(own.requests).toHaveLength(1);

    const malformed = network([failedToFetch()]);
    const data = await fetchImage('data:image/jpeg;base64,@@@', malformed.deps);
    expect(codeOf(data)).toBe('INVALID_URL');
    expect(malformed.requests).toHaveLength(1);
  });

  it('a body cut off while reading fails as a download, or as offline', async () => {
    const cutOff = () =>
      new Response(
        new ReadableStream({
          start: (controller) => controller.error(new TypeError('network error')),
        }),
      );
    expect(codeOf(await fetchImage(OTHER_SITE, network([cutOff()]).deps))).toBe('FETCH_FAILED');
    const offline = network([cutOff()], { isOnline: () => false });
    expect(codeOf(await fetchImage(OTHER_SITE, offline.deps))).toBe('OFFLINE');
  });
});

describe('imageName', () => {
  it('names an address by its last path segment, a data: URL as a pasted image', () => {
    expect(imageName('https://photos.example.org/birds/blue%20jay.jpg')).toBe('blue jay.jpg');
    expect(imageName('https://photos.example.org/')).toBe('image');
    expect(imageName('https://photos.example.org/100%')).toBe('100%');
    expect(imageName('data:image/png;base64,iVBORw0KGgo=')).toBe('pasted-image');
    expect(imageName(` ${'x'.repeat(100)} `)).toBe('x'.repeat(80));
  });
});
