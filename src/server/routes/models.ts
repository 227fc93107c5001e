import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { channelManifestSchema } from '../../core/model-channels';
import type { ModelRegistry } from '../../node/model-registry';
import { createModelResponder, MANIFEST_PATH, openModelFile } from '../model-http';
import { errorResponse, jsonResponse } from '../openapi';

export interface ModelRoutesOptions {
  /** Built once at start-up: hashing the models per request would be far too slow. */
  registry: ModelRegistry;
}

const notModified = z.undefined().describe('Not modified (If-None-Match matched the ETag)');

/**
 * The manifest and the model files. The answers come from the same framework-free
 * responder as the Vite dev server's, so both serve /models alike; any other path under
 * /models falls through to the app's 404.
 */
export const modelRoutes: FastifyPluginAsyncZod<ModelRoutesOptions> = async (app, { registry }) => {
  const respond = createModelResponder(registry);
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const response = respond(request.raw);
    if (!response) return reply.callNotFound();
    reply.code(response.status).headers(response.headers);
    if (request.method === 'HEAD' || response.kind === 'empty') return reply.send();
    return reply.send(
      response.kind === 'file' ? await openModelFile(response.file) : response.body,
    );
  };

  // HEAD is answered here, not by Fastify's automatic HEAD route, which would read a
  // whole model file only to throw it away, and send Content-Length: 0. (No operationId:
  // the document lists the route under both methods, and an id must be unique.)
  app.route({
    method: ['GET', 'HEAD'],
    url: MANIFEST_PATH,
    schema: {
      summary: 'The models this server serves, with their files, sizes and sha256',
      response: {
        200: jsonResponse(
          'The manifest (Cache-Control: no-cache, with an ETag)',
          channelManifestSchema,
        ),
        304: notModified,
      },
    },
    handler,
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/models/:id/:version/:file',
    schema: {
      summary: 'A file of a model version, cached for good (immutable, ETag = its sha256)',
      params: z.object({ id: z.string(), version: z.string(), file: z.string() }),
      response: {
        200: {
          description: 'The file, as listed in the manifest',
          content: {
            'application/octet-stream': { schema: z.string() },
            'application/json': { schema: z.unknown() },
            'text/plain': { schema: z.string() },
          },
        },
        304: notModified,
        404: errorResponse('No such model, version or file (NOT_FOUND)'),
      },
    },
    handler,
  });
};
