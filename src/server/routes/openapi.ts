import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { jsonResponse, OPENAPI_PATH } from '../openapi';

/**
 * GET /api/v1/openapi.json: the document @fastify/swagger builds from the route schemas
 * (registered at the root, so that it sees every route). Built once, at the first request.
 */
export const openApiRoutes: FastifyPluginAsyncZod = async (app) => {
  let document: string | null = null;
  app.get(
    OPENAPI_PATH,
    {
      schema: {
        operationId: 'openapi',
        summary: 'This document (OpenAPI 3.1)',
        response: {
          200: jsonResponse('OpenAPI 3.1', z.record(z.string(), z.unknown())),
        },
      },
    },
    async (_request, reply) => {
      document ??= JSON.stringify(app.swagger());
      reply.header('cache-control', 'no-cache').type('application/json; charset=utf-8');
      return document;
    },
  );
};
