import { afterEach, describe, expect, it, vi } from 'vitest';
import { feedbackRecordSchema, type LabelIndex } from '../core/feedback';
import { cleanPhoto, makeRecord, testModel } from '../../test-support/feedback';
import { createFeedbackService } from './feedback-service';
import type { FeedbackStore, NewFeedback } from './feedback-store';

describe('createFeedbackService', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('decodes each photo once, and stores the bytes it checked', async () => {
    const model = await testModel();
    const photo = await cleanPhoto();
    const base64 = photo.toString('base64');
    const record = feedbackRecordSchema.parse(makeRecord(model, { photo: base64 }));
    const labels: LabelIndex = { labels: () => new Set(model.labels) };
    const stored: NewFeedback[] = [];
    const store = {
      insertMany: async (items: readonly NewFeedback[]) => {
        stored.push(...items);
        return items.map(() => 'accepted' as const);
      },
    } as unknown as FeedbackStore;
    const service = createFeedbackService({
      store,
      models: { indexFor: async () => labels },
      now: () => Date.parse('2026-05-01T12:00:00Z'),
    });

    const from = vi.spyOn(Buffer, 'from');
    const results = await service.submit([record]);
    const decodes = from.mock.calls.filter(([value]) => value === base64);

    expect(results).toEqual([{ id: record.id, status: 'accepted' }]);
    expect(decodes).toHaveLength(1);
    expect(Buffer.from(stored[0]?.photo ?? []).equals(photo)).toBe(true);
    expect(stored[0]?.recordJson).not.toContain('photo');
  });
});
