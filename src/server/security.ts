import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyHelmetOptions } from '@fastify/helmet';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './http-errors';

/**
 * The Content-Security-Policy of the app, as narrow as what it does allows:
 * - scripts and workers from our origin; `'wasm-unsafe-eval'` lets TF.js compile its wasm
 *   backend (without allowing `eval`); the threaded wasm build starts its helper workers
 *   from `blob:` URLs, and those `importScripts()` another `blob:` URL, which script-src
 *   governs (without `blob:` there, every pthread worker fails to start);
 * - `connect-src`: the API, the models and the wasm files (self), plus the "photo from a
 *   URL" feature, which fetches any https: image the user gives (and data: URLs);
 * - images from our origin, from blob: (object URLs of chosen files) and data: URLs;
 * - no plugins, no framing, no <base> tricks, forms post to us only.
 */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'", 'blob:'],
  'script-src-attr': ["'none'"],
  'worker-src': ["'self'", 'blob:'],
  'connect-src': ["'self'", 'https:', 'data:', 'blob:'],
  'img-src': ["'self'", 'blob:', 'data:'],
  'media-src': ["'self'", 'blob:'],
  'style-src': ["'self'"],
  'font-src': ["'self'"],
  'manifest-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const;

/**
 * Helmet's headers, with the cross-origin isolation the threaded wasm backend needs
 * (COOP + COEP, CORP for our own resources: the same values as SECURITY_HEADERS).
 */
export const HELMET_OPTIONS: FastifyHelmetOptions = {
  global: true,
  contentSecurityPolicy: {
    useDefaults: false,
    directives: Object.fromEntries(
      Object.entries(CONTENT_SECURITY_POLICY).map(([name, values]) => [name, [...values]]),
    ),
  },
  crossOriginEmbedderPolicy: { policy: 'require-corp' },
  crossOriginOpenerPolicy: { policy: 'same-origin' },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' },
};

/**
 * An onRequest hook that lets through only `Authorization: Bearer <token>`. Comparing the
 * SHA-256 digests gives timingSafeEqual the equal lengths it needs, and leaks neither the
 * token's length nor how much of it matched.
 */
export function requireBearer(
  token: string,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = sha256(token);
  return async (request, reply) => {
    const given = /^Bearer (.+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
    if (!timingSafeEqual(sha256(given), expected)) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpError(401, 'UNAUTHORIZED');
    }
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
