import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FEEDBACK_API_PATH, feedbackExportLineSchema, toNdjsonLine } from '../../core/feedback';
import type { FeedbackStore } from '../feedback-store';
import { errorResponse } from '../openapi';
import { requireBearer } from '../security';

export const EXPORT_PATH = `${FEEDBACK_API_PATH}/export`;

export const exportQuerySchema = z.strictObject({
  /** Only records after this cursor (the `seq` of the last line already read). */
  since: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** `1` includes the photos (base64); off by default. */
  photos: z.enum(['0', '1']).optional(),
  limit: z.coerce.number().int().min(1).max(1_000_000).optional(),
});

export interface ExportRoutesOptions {
  store: Pick<FeedbackStore, 'exportRecords'>;
  /** Registered only when a token is configured: without one the export does not exist. */
  token: string;
}

/** GET /api/v1/feedback/export: every stored record as NDJSON, for the training pipeline. */
export const exportRoutes: FastifyPluginAsyncZod<ExportRoutesOptions> = async (
  app,
  { store, token },
) => {
  app.get(
    EXPORT_PATH,
    {
      onRequest: requireBearer(token),
      schema: {
        operationId: 'exportFeedback',
        summary: 'Every stored record, oldest first, as NDJSON (for the training pipeline)',
        security: [{ bearer: [] }],
        querystring: exportQuerySchema,
        response: {
          200: {
            description: 'One FeedbackExportLine per line',
            content: { 'application/x-ndjson': { schema: feedbackExportLineSchema } },
          },
          400: errorResponse('Bad query (VALIDATION_FAILED)'),
          401: errorResponse('Missing or wrong bearer token (UNAUTHORIZED)'),
        },
      },
    },
    async (request, reply) => {
      const { since, photos, limit } = request.query;
      const withPhotos = photos === '1';
      const rows = store.exportRecords({ since, photos: withPhotos, limit });
      async function* lines() {
        for await (const row of rows) {
          const record = JSON.parse(row.recordJson) as Record<string, unknown>;
          if (withPhotos && row.photo) record.photo = Buffer.from(row.photo).toString('base64');
          yield toNdjsonLine({ seq: row.seq, hasPhoto: row.hasPhoto, record });
        }
      }
      reply.type('application/x-ndjson; charset=utf-8').header('cache-control', 'no-store');
      return reply.send(Readable.from(lines()));
    },
  );
};
