import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FeedbackStore } from '../feedback-store';
import { jsonResponse } from '../openapi';

export interface HealthRoutesOptions {
  store: Pick<FeedbackStore, 'health'>;
}

/** GET /healthz: serving, and the database answers. */
export const healthRoutes: FastifyPluginAsyncZod<HealthRoutesOptions> = async (app, { store }) => {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'health',
        summary: 'Liveness and database check',
        response: {
          200: jsonResponse('Serving, database reachable', z.object({ status: z.literal('ok') })),
          503: jsonResponse('Database unreachable', z.object({ status: z.literal('unavailable') })),
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      try {
        await store.health();
        return { status: 'ok' as const };
      } catch (error) {
        request.log.error({ err: error }, 'database health check failed');
        return reply.code(503).send({ status: 'unavailable' as const });
      }
    },
  );
};
