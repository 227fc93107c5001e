import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { FEEDBACK_API_PATH } from '../core/feedback';
import {
  DEFAULT_FEEDBACK_CONFIG,
  DEFAULT_TIMEOUTS,
  type FeedbackConfig,
  type ServerConfig,
} from './config';
import { createFeedbackService } from './feedback-service';
import type { FeedbackStore } from './feedback-store';
import { errorReply, type ErrorReply } from './http-errors';
import { createMetrics } from './metrics';
import { SECURITY_HEADERS } from './model-http';
import { createModelMemory } from './model-memory';
import type { ModelSource } from './model-source';
import { SWAGGER_OPTIONS } from './openapi';
import { rateLimitPluginOptions } from './rate-limit';
import { exportRoutes } from './routes/export';
import { feedbackRoutes } from './routes/feedback';
import { healthRoutes } from './routes/health';
import { metricsRoutes } from './routes/metrics';
import { modelRoutes } from './routes/models';
import { openApiRoutes } from './routes/openapi';
import { staticAppRoutes } from './routes/static-app';
import { HELMET_OPTIONS } from './security';
import { openSqliteStore } from './sqlite-store';
import { transportOptions } from './transport';

export interface AppDeps {
  /**
   * What /models serves and feedback is checked against: the registry as the server keeps
   * it live (`openLiveModels`), or a models folder read once (`folderSource`, for tests and
   * tools). Built before the app: hashing the models per request would be far too slow.
   */
  models: ModelSource;
  /**
   * Opened (and closed) by the caller: the app only uses it. Without one (tools that only
   * serve the app and the models), feedback goes to an in-memory database that the app
   * closes with itself.
   */
  store?: FeedbackStore;
  /** Milliseconds; what the feedback service takes as today (tests step it). */
  now?: () => number;
  /** Where the JSON log lines go (stdout by default); tests read them. */
  logStream?: { write(line: string): void };
}

/** What `server.ts` reads from the environment; tests and tools give only what they need. */
export type AppConfig = Pick<ServerConfig, 'distDir' | 'logLevel'> &
  Partial<Pick<ServerConfig, 'metricsToken' | 'timeouts' | 'trustedProxies'>> & {
    feedback?: Partial<Omit<FeedbackConfig, 'store'>>;
  };

/** The whole HTTP app, not listening: `server.ts` listens, tests call `inject`. */
export function buildApp(config: AppConfig, deps: AppDeps): FastifyInstance {
  const feedback = { ...DEFAULT_FEEDBACK_CONFIG, ...config.feedback };
  const store = deps.store ?? openSqliteStore(':memory:');
  const trustedProxies = config.trustedProxies ?? [];
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
    // Only the listed proxies may name the client (config.ts refuses `true`).
    trustProxy: trustedProxies.length > 0 ? trustedProxies : false,
    ...transportOptions(config.timeouts ?? DEFAULT_TIMEOUTS),
    // Malformed URLs never reach the hooks (helmet's among them), so they get the headers here.
    frameworkErrors: (error, _request, reply) =>
      sendError(reply.headers(SECURITY_HEADERS), errorReply(error)),
  });
  if (!deps.store) app.addHook('onClose', () => store.close());
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const metrics = createMetrics(() => store.count());
  metrics.install(app);

  // The one error handler: 4xx in the project's words, 5xx details only in the log.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = errorReply(error);
    if (answer.status >= 500) request.log.error({ err: error }, 'request failed');
    else if (request.routeOptions.url?.startsWith(FEEDBACK_API_PATH)) {
      metrics.refuseRequest(answer.body.error.code);
    }
    return sendError(reply, answer);
  });

  // Plugins that act on every route come first; swagger must see every route registered.
  app.register(fastifySwagger, SWAGGER_OPTIONS);
  app.register(fastifyHelmet, HELMET_OPTIONS);
  if (feedback.corsOrigins.length > 0) {
    app.register(fastifyCors, {
      origin: feedback.corsOrigins,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type'],
      maxAge: 600,
    });
  }
  app.register(fastifyRateLimit, rateLimitPluginOptions());

  // Every start, and every change of channels, remembers the versions served, so that
  // feedback queued for them is still taken after they are replaced (or removed).
  const source = deps.models;
  const models = createModelMemory(source, store);
  app.addHook('onReady', () => models.rememberServed());
  const unsubscribe = source.subscribe({
    changed(manifest) {
      const listed = Object.entries(manifest.models).map(
        ([id, { stable, candidate }]) =>
          `${id}@${stable.version}${candidate ? ` (candidate ${candidate.version} at ${candidate.percent} %)` : ''}`,
      );
      app.log.info({ models: listed }, 'the model channels changed');
      models.rememberServed().catch((error: unknown) => {
        app.log.error({ err: error }, 'cannot remember the served model versions');
      });
    },
    failed(error) {
      app.log.warn({ err: error }, 'cannot read the model registry; serving the last manifest');
    },
  });
  app.addHook('onClose', async () => unsubscribe());

  app.register(healthRoutes, { store });
  app.register(metricsRoutes, { metrics, token: config.metricsToken ?? null });
  app.register(openApiRoutes);
  app.register(modelRoutes, { source });
  app.register(feedbackRoutes, {
    service: createFeedbackService({
      store,
      models,
      now: deps.now,
      onResult: metrics.recordFeedback,
    }),
    bodyLimitBytes: feedback.bodyLimitBytes,
    rateLimit: feedback.rateLimit,
  });
  if (feedback.exportToken !== null) {
    app.register(exportRoutes, { store, token: feedback.exportToken });
  }
  app.register(staticAppRoutes, { distDir: config.distDir });

  return app;
}

function sendError(reply: FastifyReply, { status, body }: ErrorReply): FastifyReply {
  return reply.code(status).send(body);
}
