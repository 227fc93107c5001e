import { createHash, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import {
  canonicalJson,
  FEEDBACK_API_PATH,
  feedbackBatchSchema,
  feedbackReplySchema,
  type FeedbackBatch,
  type FeedbackReply,
} from '../core/feedback';
import type { FeedbackService } from './feedback-service';
import type { FeedbackStore } from './feedback-store';
import { HttpError } from './http-errors';
import { EXPORT_PATH, exportQuerySchema } from './openapi';
import type { RateLimiter } from './rate-limit';

export interface FeedbackRoutesOptions {
  service: FeedbackService;
  store: FeedbackStore;
  rateLimiter: RateLimiter;
  bodyLimitBytes: number;
  /** The export route exists only when a token is configured. */
  exportToken: string | null;
}

export function registerFeedbackRoutes(app: FastifyInstance, options: FeedbackRoutesOptions) {
  const { service, store, rateLimiter } = options;

  const rateLimit = async (request: FastifyRequest, reply: FastifyReply) => {
    const taken = rateLimiter.take(request.ip);
    if (!taken.ok) {
      reply.header('retry-after', String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000))));
      throw new HttpError(429, 'RATE_LIMITED');
    }
  };

  app.post<{ Body: FeedbackBatch; Reply: FeedbackReply }>(
    FEEDBACK_API_PATH,
    {
      bodyLimit: options.bodyLimitBytes,
      // Both run before the body is read: a refused request costs no parsing.
      onRequest: [rateLimit, requireJson],
      schema: {
        body: feedbackBatchSchema,
        response: { 200: feedbackReplySchema, 422: feedbackReplySchema },
      },
    },
    async (request, reply) => {
      const results = await service.submit(request.body.records);
      const anyStored = results.some((result) => result.status !== 'rejected');
      reply.code(anyStored ? 200 : 422).header('cache-control', 'no-store');
      return { results };
    },
  );

  const token = options.exportToken;
  if (token === null) return;
  const expected = sha256(token);
  app.get<{ Querystring: z.infer<typeof exportQuerySchema> }>(
    EXPORT_PATH,
    {
      onRequest: async (request, reply) => {
        const header = request.headers.authorization ?? '';
        const given = /^Bearer (.+)$/i.exec(header)?.[1] ?? '';
        // Hashing first gives equal lengths, which timingSafeEqual needs, and leaks none.
        if (!timingSafeEqual(sha256(given), expected)) {
          reply.header('www-authenticate', 'Bearer');
          throw new HttpError(401, 'UNAUTHORIZED');
        }
      },
      schema: { querystring: exportQuerySchema },
    },
    async (request, reply) => {
      const { since, photos, limit } = request.query;
      const withPhotos = photos === '1';
      const rows = store.exportRecords({ since, photos: withPhotos, limit });
      async function* lines() {
        for await (const row of rows) {
          const record = JSON.parse(row.recordJson) as Record<string, unknown>;
          if (withPhotos && row.photo) record.photo = Buffer.from(row.photo).toString('base64');
          yield `{"seq":${row.seq},"hasPhoto":${row.hasPhoto},"record":${canonicalJson(record)}}\n`;
        }
      }
      reply.type('application/x-ndjson; charset=utf-8').header('cache-control', 'no-store');
      return reply.send(Readable.from(lines()));
    },
  );
}

/** JSON only, in UTF-8 (the default); anything else is refused before the body is read. */
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

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
