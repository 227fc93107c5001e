import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppMetrics } from '../metrics';
import { errorResponse } from '../openapi';
import { requireBearer } from '../security';

export interface MetricsRoutesOptions {
  metrics: Pick<AppMetrics, 'registry'>;
  /** With a token, only a bearer of it may read the metrics. */
  token: string | null;
}

/** GET /metrics: Prometheus text. */
export const metricsRoutes: FastifyPluginAsyncZod<MetricsRoutesOptions> = async (
  app,
  { metrics, token },
) => {
  app.get(
    '/metrics',
    {
      ...(token === null ? {} : { onRequest: requireBearer(token) }),
      schema: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        ...(token === null ? {} : { security: [{ bearer: [] }] }),
        response: {
          200: {
            description: 'Prometheus text format',
            content: { 'text/plain': { schema: z.string() } },
          },
          ...(token === null
            ? {}
            : { 401: errorResponse('Missing or wrong bearer token (UNAUTHORIZED)') }),
        },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-store').type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};
