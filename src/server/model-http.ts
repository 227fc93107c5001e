import type { IncomingMessage } from 'node:http';
import { extname } from 'node:path';
import { ERROR_MESSAGES } from '../core/errors';
import type { ErrorBody } from '../core/feedback';
import type { ChannelManifest } from '../core/model-channels';
import { sha256Hex } from '../node/model-folder';
import type { ModelSource, ServedModelFile } from './model-source';

/**
 * The HTTP side of /models, shared by the Fastify app and the Vite dev/preview servers so
 * both answer exactly alike. Framework-free: it decides the response, the caller sends it.
 */

/**
 * On every response. COOP + COEP make the page cross-origin isolated, which threaded
 * wasm needs (SharedArrayBuffer); CORP lets our own resources load under COEP.
 */
export const SECURITY_HEADERS = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
  'cross-origin-resource-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
} as const;

export const MANIFEST_PATH = '/models/manifest.json';
/** Model files live under a content-derived version, so they can be cached for good. */
export const IMMUTABLE = 'public, max-age=31536000, immutable';

export const NOT_FOUND_BODY: ErrorBody = {
  error: { code: 'NOT_FOUND', message: ERROR_MESSAGES.NOT_FOUND },
};

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

type Headers = Record<string, string>;

export type ModelResponse =
  | { kind: 'file'; status: 200; headers: Headers; file: ServedModelFile }
  | { kind: 'text'; status: 200 | 404; headers: Headers; body: string }
  | { kind: 'empty'; status: 304; headers: Headers };

export function isUnderModels(pathname: string): boolean {
  return pathname === '/models' || pathname.startsWith('/models/');
}

/** Returns the answer to a request under /models (404s included), or null for any other path. */
export function createModelResponder(
  source: ModelSource,
): (req: Pick<IncomingMessage, 'method' | 'url' | 'headers'>) => ModelResponse | null {
  const notFound = JSON.stringify(NOT_FOUND_BODY);
  // Serialised and hashed once per manifest the source hands out, not once per request.
  let served: { manifest: ChannelManifest; body: string; etag: string } | null = null;
  const currentManifest = () => {
    const manifest = source.manifest();
    if (served?.manifest !== manifest) {
      const body = JSON.stringify(manifest);
      served = { manifest, body, etag: `"${sha256Hex(body)}"` };
    }
    return served;
  };

  return (req) => {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    if (!isUnderModels(pathname)) return null;
    const ifNoneMatch = req.headers['if-none-match'];
    const fresh = (etag: string) =>
      ifNoneMatch?.split(',').some((tag) => ['*', etag].includes(tag.trim().replace(/^W\//, '')));

    if (req.method === 'GET' || req.method === 'HEAD') {
      if (pathname === MANIFEST_PATH) {
        const { body, etag } = currentManifest();
        const headers = { 'cache-control': 'no-cache', etag };
        if (fresh(etag)) return { kind: 'empty', status: 304, headers };
        return jsonResponse(200, headers, body);
      }
      const file = lookup(source, pathname);
      if (file) {
        const headers = { 'cache-control': IMMUTABLE, etag: `"${file.sha256}"` };
        if (fresh(headers.etag)) return { kind: 'empty', status: 304, headers };
        return {
          kind: 'file',
          status: 200,
          file,
          headers: {
            ...headers,
            'content-type': CONTENT_TYPES[extname(file.path)] ?? 'application/octet-stream',
            'content-length': String(file.bytes),
          },
        };
      }
    }
    return jsonResponse(404, { 'cache-control': 'no-cache' }, notFound);
  };
}

function jsonResponse(status: 200 | 404, headers: Headers, body: string): ModelResponse {
  return {
    kind: 'text',
    status,
    headers: {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
    },
    body,
  };
}

/** `/models/<id>/<version>/<file>`; each segment decoded once, then matched exactly. */
function lookup(source: ModelSource, pathname: string): ServedModelFile | null {
  const segments = pathname.split('/');
  if (segments.length !== 5) return null;
  try {
    const [, , id, version, path] = segments.map(decodeURIComponent);
    return source.findFile(id ?? '', version ?? '', path ?? '');
  } catch {
    return null; // malformed %-encoding
  }
}
