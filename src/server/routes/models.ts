import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { channelManifestSchema } from '../../core/model-channels';
import { createModelResponder, MANIFEST_PATH } from '../model-http';
import type { ModelSource } from '../model-source';
import { errorResponse, jsonResponse } from '../openapi';

export interface ModelRoutesOptions {
  /** The manifest and files as served now: the registry's, or a folder's. */
  source: ModelSource;
}

const notModified = z.undefined().describe('Not modified (If-None-Match matched the ETag)');

/**
 * The manifest and the model files. The answers come from the same framework-free
 * responder as the Vite dev server's, so both serve /models alike; any other path under
 * /models falls through to the app's 404.
 */
export const modelRoutes: FastifyPluginAsyncZod<ModelRoutesOptions> = async (app, { source }) => {
  const respond = createModelResponder(source);
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const response = respond(request.raw);
    if (!response) return reply.callNotFound();
    const head = request.method === 'HEAD';
    if (response.kind !== 'file') {
      reply.code(response.status).headers(response.headers);
      return reply.send(head || response.kind === 'empty' ? undefined : response.body);
    }
    // Opened (and so checked) before any header is set: a file that cannot be sent gets
    // the error handler's 500, never one marked cacheable for a year under the file's
    // etag. HEAD opens it too, so that it answers as GET would.
    const body = await response.file.open();
    reply.code(response.status).headers(response.headers);
    if (head) {
      if (!(body instanceof Uint8Array)) body.destroy();
      return reply.send();
    }
    return reply.send(
      body instanceof Uint8Array
        ? Buffer.from(body.buffer, body.byteOffset, body.byteLength)
        : body,
    );
  };

  // HEAD is answered here, not by Fastify's automatic HEAD route, which would stream a
  // whole model file only to throw it away, and send Content-Length: 0. (No operationId:
  // the document lists the route under both methods, and an id must be unique.)
  app.route({
    method: ['GET', 'HEAD'],
    url: MANIFEST_PATH,
    schema: {
      summary:
        'The models this server serves: per model id the stable version and, during a rollout, the candidate',
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
      summary:
        'A file of a version the manifest lists (stable or candidate), cached for good (immutable, ETag = its sha256)',
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
