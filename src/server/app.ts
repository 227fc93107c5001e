import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { ServerConfig } from './config';
import {
  createModelResponder,
  IMMUTABLE,
  isUnderModels,
  NOT_FOUND_BODY,
  openModelFile,
  SECURITY_HEADERS,
  type ErrorBody,
} from './model-http';
import type { ModelRegistry } from './model-registry';

export interface AppDeps {
  /** Built once at start-up: hashing the models per request would be far too slow. */
  registry: ModelRegistry;
}

/** The whole HTTP app, not listening: `server.ts` listens, tests call `inject`. */
export function buildApp(
  config: Pick<ServerConfig, 'distDir' | 'logLevel'>,
  deps: AppDeps,
): FastifyInstance {
  const app = Fastify({
    logger: { level: config.logLevel },
    // Malformed URLs never reach the hooks, so they get the headers here.
    frameworkErrors: (error, _request, reply) => sendError(reply.headers(SECURITY_HEADERS), error),
  });

  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (!isClientError(error)) request.log.error({ err: error }, 'request failed');
    return sendError(reply, error);
  });

  app.get('/healthz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  const respondModels = createModelResponder(deps.registry);
  app.all('/models/*', async (request, reply) => {
    const response = respondModels(request.raw);
    if (!response) return reply.callNotFound();
    reply.code(response.status).headers(response.headers);
    if (request.method === 'HEAD' || response.kind === 'empty') return reply.send();
    return reply.send(
      response.kind === 'file' ? await openModelFile(response.file) : response.body,
    );
  });

  // Without a build (tests, API-only runs) the app still serves the API and the models.
  const hasDist = existsSync(config.distDir);
  const hasIndex = existsSync(join(config.distDir, 'index.html'));
  if (hasDist) {
    app.register(fastifyStatic, {
      root: config.distDir,
      cacheControl: false,
      dotfiles: 'ignore',
      setHeaders: (reply, filePath) => {
        // Vite content-hashes what it puts in assets/; anything else (index.html, sw.js)
        // must be revalidated so a new deploy is picked up.
        const hashed = relative(config.distDir, filePath).startsWith(`assets${sep}`);
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
      !(pathname === '/api' || pathname.startsWith('/api/'));
    // Client-side routes: the SPA decides what to show.
    if (hasIndex && navigation) return reply.sendFile('index.html');
    return reply.code(404).header('cache-control', 'no-cache').send(NOT_FOUND_BODY);
  });

  return app;
}

function isClientError(error: FastifyError): boolean {
  return error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500;
}

/** 4xx explain themselves; 5xx details stay in the log. */
function sendError(reply: FastifyReply, error: FastifyError): FastifyReply {
  const body: ErrorBody = isClientError(error)
    ? { error: { code: error.code ?? 'BAD_REQUEST', message: error.message } }
    : { error: { code: 'INTERNAL', message: 'Internal error' } };
  return reply.code(isClientError(error) ? (error.statusCode ?? 400) : 500).send(body);
}
