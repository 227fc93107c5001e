import type { SwaggerOptions } from '@fastify/swagger';
import {
  createJsonSchemaTransform,
  createJsonSchemaTransformObject,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  errorBodySchema,
  feedbackBatchSchema,
  feedbackExportLineSchema,
  feedbackReplySchema,
} from '../core/feedback';

export const OPENAPI_PATH = '/api/v1/openapi.json';

/**
 * The schemas the document names in `components` (and refers to from the routes). The
 * provider publishes each twice, as it comes in (`…Input`) and as it goes out; a
 * client that sends a batch wants `FeedbackBatchInput`.
 */
const namedSchemas = z.registry<{ id: string }>();
namedSchemas.add(feedbackBatchSchema, { id: 'FeedbackBatch' });
namedSchemas.add(feedbackReplySchema, { id: 'FeedbackReply' });
namedSchemas.add(feedbackExportLineSchema, { id: 'FeedbackExportLine' });
namedSchemas.add(errorBodySchema, { id: 'Error' });

/**
 * @fastify/swagger, fed by the route schemas through the zod provider: every route that
 * is registered after it is in the document, unless it is marked `hide` (the app's
 * static files, which are not an API).
 */
export const SWAGGER_OPTIONS: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'Field ID server',
      version: '1.0.0',
      description:
        'Anonymous corrections from the Field ID app, and the models it runs. No account, device id, IP address, location or time of day is collected.',
    },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  },
  transform: createJsonSchemaTransform({ schemaRegistry: namedSchemas, skipList: [] }),
  transformObject: createJsonSchemaTransformObject({ schemaRegistry: namedSchemas }),
};

/** A JSON response for the document: what it means and the schema of its body. */
export function jsonResponse(description: string, schema: z.ZodType) {
  return { description, content: { 'application/json': { schema } } };
}

/** An error response: the project's error body, with the codes it may carry. */
export function errorResponse(description: string) {
  return jsonResponse(description, errorBodySchema);
}
