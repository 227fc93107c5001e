import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  FEEDBACK_API_PATH,
  feedbackBatchSchema,
  feedbackReplySchema,
  MAX_BATCH_RECORDS,
} from '../../core/feedback';
import type { FeedbackService } from '../feedback-service';
import { HttpError } from '../http-errors';
import { errorResponse, jsonResponse } from '../openapi';
import { routeRateLimit, type RateLimitSettings } from '../rate-limit';

export interface FeedbackRoutesOptions {
  service: FeedbackService;
  bodyLimitBytes: number;
  rateLimit: RateLimitSettings;
}

/** POST /api/v1/feedback: a batch of records, each stored at most once. */
export const feedbackRoutes: FastifyPluginAsyncZod<FeedbackRoutesOptions> = async (
  app,
  { service, bodyLimitBytes, rateLimit },
) => {
  app.post(
    FEEDBACK_API_PATH,
    {
      bodyLimit: bodyLimitBytes,
      // The limiter runs first (onRequest), so every request counts, refused or not; the
      // checks run before the body is read, so a refused request costs no parsing.
      config: { rateLimit: routeRateLimit(rateLimit) },
      preParsing: [requireJson, requireIdentityEncoding],
      schema: {
        operationId: 'postFeedback',
        summary: `Send up to ${MAX_BATCH_RECORDS} feedback records`,
        description:
          'Each record is stored at most once, keyed by its client-made id. The answer lists every record, in request order, as accepted, duplicate (same id, same payload) or rejected with a code (CONFLICT: same id, different payload).',
        body: feedbackBatchSchema,
        response: {
          200: jsonResponse('At least one record accepted or duplicate', feedbackReplySchema),
          400: errorResponse('Not JSON, or not in the form of the schema (VALIDATION_FAILED)'),
          413: errorResponse('Body over the size limit (PAYLOAD_TOO_LARGE)'),
          415: errorResponse(
            'Not application/json in UTF-8 (UNSUPPORTED_MEDIA_TYPE), or a compressed body (UNSUPPORTED_CONTENT_ENCODING)',
          ),
          422: jsonResponse('No record accepted or duplicate', feedbackReplySchema),
          429: errorResponse(
            'Too many requests from this client (RATE_LIMITED); the Retry-After header says how many seconds to wait',
          ),
        },
      },
    },
    async (request, reply) => {
      const results = await service.submit(request.body.records);
      const anyStored = results.some((result) => result.status !== 'rejected');
      reply.code(anyStored ? 200 : 422).header('cache-control', 'no-store');
      return { results };
    },
  );
};

/** JSON only, in UTF-8 (the default). */
async function requireJson(request: FastifyRequest): Promise<void> {
  const [type = '', ...params] = (request.headers['content-type'] ?? '').split(';');
  const charset = params
    .map((param) => param.trim().toLowerCase())
    .find((param) => param.startsWith('charset='));
  const utf8 = charset === undefined || ['charset=utf-8', 'charset="utf-8"'].includes(charset);
  if (type.trim().toLowerCase() !== 'application/json' || !utf8) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE');
  }
}

/**
 * Uncompressed only. Fastify does not decode a Content-Encoding: a gzip body would be
 * parsed as if it were JSON, and decoding it here would let a small body inflate past
 * the size limit. The app never compresses what it sends.
 */
async function requireIdentityEncoding(
  request: FastifyRequest,
  reply: { header(name: string, value: string): unknown },
): Promise<void> {
  const codings = (request.headers['content-encoding'] ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '');
  if (codings.some((coding) => coding !== 'identity')) {
    // RFC 7694: a 415 for a content coding says which codings are accepted.
    reply.header('accept-encoding', 'identity');
    throw new HttpError(415, 'UNSUPPORTED_CONTENT_ENCODING');
  }
}
