import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { FEEDBACK_API_PATH } from '../core/feedback';
import { DEFAULT_FEEDBACK_CONFIG, type FeedbackConfig, type ServerConfig } from './config';
import { registerFeedbackRoutes } from './feedback-routes';
import { createFeedbackService } from './feedback-service';
import type { FeedbackStore } from './feedback-store';
import { errorReply, zodSerializerCompiler, zodValidatorCompiler } from './http-errors';
import { createMetrics } from './metrics';
import {
  createModelResponder,
  IMMUTABLE,
  isUnderModels,
  NOT_FOUND_BODY,
  openModelFile,
  SECURITY_HEADERS,
} from './model-http';
import { createModelMemory } from './model-memory';
import type { ModelRegistry } from './model-registry';
import { buildOpenApiDocument, OPENAPI_PATH } from './openapi';
import { createRateLimiter } from './rate-limit';
import { HELMET_OPTIONS } from './security';
import { openSqliteStore } from './sqlite-store';

export interface AppDeps {
  /** Built once at start-up: hashing the models per request would be far too slow. */
  registry: ModelRegistry;
  /**
   * Opened (and closed) by the caller: the app only uses it. Without one (tools that only
   * serve the app and the models), feedback goes to an in-memory database that the app
   * closes with itself.
   */
  store?: FeedbackStore;
  /** Milliseconds; tests step it to drive the rate limiter. */
  now?: () => number;
  /** Where the JSON log lines go (stdout by default); tests read them. */
  logStream?: { write(line: string): void };
}

export type AppConfig = Pick<ServerConfig, 'distDir' | 'logLevel'> & {
  feedback?: Partial<Omit<FeedbackConfig, 'store'>>;
};

/** The whole HTTP app, not listening: `server.ts` listens, tests call `inject`. */
export function buildApp(config: AppConfig, deps: AppDeps): FastifyInstance {
  const feedback = { ...DEFAULT_FEEDBACK_CONFIG, ...config.feedback };
  const store = deps.store ?? openSqliteStore(':memory:');
  const app = Fastify({
    logger: {
      level: config.logLevel,
      ...(deps.logStream ? { stream: deps.logStream } : {}),
      // No personal data in the logs: no address, no user agent, no query, no body.
      serializers: {
        req: (request: { method?: string; routeOptions?: { url?: string } }) => ({
          method: request.method,
          route: request.routeOptions?.url ?? 'unmatched',
        }),
        res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
      },
    },
    trustProxy: feedback.trustProxy,
    // Malformed URLs never reach the hooks (helmet's among them), so they get the headers here.
    frameworkErrors: (error, _request, reply) => sendError(reply.headers(SECURITY_HEADERS), error),
  });
  if (!deps.store) app.addHook('onClose', () => store.close());
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(zodSerializerCompiler);

  app.register(fastifyHelmet, HELMET_OPTIONS);
  if (feedback.corsOrigins.length > 0) {
    app.register(fastifyCors, {
      origin: feedback.corsOrigins,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type'],
      maxAge: 600,
    });
  }
  const metrics = createMetrics(() => store.count());
  metrics.install(app);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body } = errorReply(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else if (request.routeOptions.url?.startsWith(FEEDBACK_API_PATH)) {
      metrics.refuseRequest(body.error.code);
    }
    return reply.code(status).send(body);
  });

  app.get('/healthz', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      await store.health();
      return { status: 'ok' };
    } catch (error) {
      request.log.error({ err: error }, 'database health check failed');
      return reply.code(503).send({ status: 'unavailable' });
    }
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('cache-control', 'no-store').type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const openApi = JSON.stringify(
    buildOpenApiDocument({ exportEnabled: feedback.exportToken !== null }),
  );
  app.get(OPENAPI_PATH, async (_request, reply) => {
    reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8');
    return openApi;
  });

  // Every start remembers the versions it serves, so that feedback queued for them is
  // still taken after the next model update.
  const models = createModelMemory(deps.registry, store);
  app.addHook('onReady', () => models.rememberServed());

  registerFeedbackRoutes(app, {
    service: createFeedbackService({
      store,
      models,
      now: deps.now,
      onResult: metrics.recordFeedback,
    }),
    store,
    rateLimiter: createRateLimiter({ ...feedback.rateLimit, now: deps.now }),
    bodyLimitBytes: feedback.bodyLimitBytes,
    exportToken: feedback.exportToken,
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

function sendError(reply: FastifyReply, error: FastifyError): FastifyReply {
  const { status, body } = errorReply(error);
  return reply.code(status).send(body);
}
