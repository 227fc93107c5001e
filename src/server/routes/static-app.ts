import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { IMMUTABLE, isUnderModels, NOT_FOUND_BODY } from '../model-http';

export interface StaticAppOptions {
  /** The built app; without one (tests, API-only runs) only the 404 answers are here. */
  distDir: string;
}

/**
 * The built app from DIST_DIR, and the answer to every path no route has: the SPA's
 * index.html for a navigation (client-side routes), a JSON 404 for anything else. Source
 * maps are never served: they would hand out the source to anyone who asks.
 */
export const staticAppRoutes: FastifyPluginAsync<StaticAppOptions> = async (app, { distDir }) => {
  const hasIndex = existsSync(join(distDir, 'index.html'));
  if (existsSync(distDir)) {
    await app.register(fastifyStatic, {
      root: distDir,
      cacheControl: false,
      dotfiles: 'ignore',
      allowedPath: (pathname) => !pathname.toLowerCase().endsWith('.map'),
      setHeaders: (reply, filePath) => {
        // Vite content-hashes what it puts in assets/; anything else (index.html, sw.js)
        // must be revalidated so a new deploy is picked up.
        const hashed = relative(distDir, filePath).startsWith(`assets${sep}`);
        reply.header('cache-control', hashed ? IMMUTABLE : 'no-cache');
      },
    });
  }

  app.setNotFoundHandler((request, reply) => {
    const pathname = request.url.split('?')[0] ?? '/';
    const navigation =
      request.method === 'GET' &&
      (request.headers.accept ?? '').includes('text/html') &&
      !isUnderModels(pathname) &&
      !(pathname === '/api' || pathname.startsWith('/api/')) &&
      !pathname.toLowerCase().endsWith('.map');
    if (hasIndex && navigation) return reply.sendFile('index.html');
    return reply.code(404).header('cache-control', 'no-cache').send(NOT_FOUND_BODY);
  });
};
