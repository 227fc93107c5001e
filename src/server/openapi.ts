import { z } from 'zod';
import {
  errorBodySchema,
  FEEDBACK_API_PATH,
  feedbackBatchSchema,
  feedbackExportLineSchema,
  feedbackRecordSchema,
  feedbackReplySchema,
  MAX_BATCH_RECORDS,
} from '../core/feedback';

export const OPENAPI_PATH = '/api/v1/openapi.json';
export const EXPORT_PATH = `${FEEDBACK_API_PATH}/export`;

export const exportQuerySchema = z.strictObject({
  /** Only records after this cursor (the `seq` of the last line already read). */
  since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** `1` includes the photos (base64); off by default. */
  photos: z.enum(['0', '1']).optional(),
  limit: z.coerce.number().int().min(1).max(1_000_000).optional(),
});

/** JSON Schema 2020-12 (what OpenAPI 3.1 uses), without the `$schema` key. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const generated: Record<string, unknown> = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
  });
  delete generated.$schema;
  return generated;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const error = (description: string) => ({ description, content: json('Error') });

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate the requests. */
export function buildOpenApiDocument(options: { exportEnabled: boolean }): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    [FEEDBACK_API_PATH]: {
      post: {
        operationId: 'postFeedback',
        summary: `Send up to ${MAX_BATCH_RECORDS} feedback records`,
        description:
          'Each record is stored at most once, keyed by its client-made id. The answer lists every record, in request order, as accepted, duplicate (same id, same payload) or rejected with a code (CONFLICT: same id, different payload).',
        requestBody: { required: true, content: json('FeedbackBatch') },
        responses: {
          200: {
            description: 'At least one record accepted or duplicate',
            content: json('FeedbackReply'),
          },
          400: error('Not JSON, or not in the form of the schema (VALIDATION_FAILED)'),
          413: error('Body over the size limit (PAYLOAD_TOO_LARGE)'),
          415: error('Not application/json (UNSUPPORTED_MEDIA_TYPE)'),
          422: { description: 'No record accepted or duplicate', content: json('FeedbackReply') },
          429: {
            ...error('Too many requests from this client (RATE_LIMITED)'),
            headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'Seconds' } },
          },
        },
      },
    },
    '/healthz': {
      get: {
        operationId: 'health',
        summary: 'Liveness and database check',
        responses: {
          200: { description: 'Serving, database reachable' },
          503: { description: 'Database unreachable' },
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        responses: {
          200: { description: 'Prometheus text format', content: { 'text/plain': {} } },
        },
      },
    },
    [OPENAPI_PATH]: {
      get: {
        operationId: 'openapi',
        summary: 'This document',
        responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': {} } } },
      },
    },
  };
  if (options.exportEnabled) {
    const query = jsonSchema(exportQuerySchema, 'input') as {
      properties: Record<string, unknown>;
    };
    paths[EXPORT_PATH] = {
      get: {
        operationId: 'exportFeedback',
        summary: 'Every stored record, oldest first, as NDJSON (for the training pipeline)',
        security: [{ bearer: [] }],
        parameters: Object.entries(query.properties).map(([name, schema]) => ({
          name,
          in: 'query',
          required: false,
          schema,
        })),
        responses: {
          200: {
            description: 'One FeedbackExportLine per line',
            content: { 'application/x-ndjson': { schema: ref('FeedbackExportLine') } },
          },
          400: error('Bad query (VALIDATION_FAILED)'),
          401: error('Missing or wrong bearer token (UNAUTHORIZED)'),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Field ID feedback API',
      version: '1.0.0',
      description:
        'Anonymous corrections from the Field ID app. No account, device id, IP address, location or time of day is collected.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: {
        FeedbackBatch: jsonSchema(feedbackBatchSchema, 'input'),
        FeedbackRecord: jsonSchema(feedbackRecordSchema, 'input'),
        FeedbackReply: jsonSchema(feedbackReplySchema, 'output'),
        FeedbackExportLine: jsonSchema(feedbackExportLineSchema, 'output'),
        Error: jsonSchema(errorBodySchema, 'output'),
      },
      ...(options.exportEnabled
        ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } }
        : {}),
    },
  };
}
