import { createHash } from 'node:crypto';
import type { ErrorCode } from '../core/errors';
import {
  canonicalJson,
  feedbackRecordProblem,
  type FeedbackRecord,
  type FeedbackResult,
  type LabelIndex,
} from '../core/feedback';
import type { FeedbackStore, InsertOutcome, NewFeedback } from './feedback-store';
import type { ModelMemory } from './model-memory';
import { photoProblem } from './photo-check';

export interface FeedbackServiceDeps {
  store: FeedbackStore;
  /** The labels of every model version ever served, not only of those served now. */
  models: Pick<ModelMemory, 'indexFor'>;
  /** Milliseconds; the day of a record may not be later than tomorrow (UTC) by this clock. */
  now?: () => number;
  /** Called once per record with its outcome. */
  onResult?: (result: FeedbackResult) => void;
}

export interface FeedbackService {
  /** Schema-valid records in, one result per record out, in the same order. */
  submit(records: readonly FeedbackRecord[]): Promise<FeedbackResult[]>;
}

const DAY_MS = 86_400_000;

export function createFeedbackService(deps: FeedbackServiceDeps): FeedbackService {
  const now = deps.now ?? Date.now;

  return {
    async submit(records) {
      const latestDay = new Date(now() + DAY_MS).toISOString().slice(0, 10);
      const labels = await deps.models.indexFor(records.map((record) => record.model));
      const results: FeedbackResult[] = new Array(records.length);
      const toStore: { index: number; item: NewFeedback }[] = [];
      /** A repeated id within one batch is answered like a repeat of an earlier request. */
      const repeats: { index: number; first: number; samePayload: boolean }[] = [];
      const firstById = new Map<string, { index: number; hash: string }>();

      // The schema has checked the base64 alphabet, padding and padding bits, so this
      // decodes exactly and gives the bytes that the payload hash covers.
      const photos = records.map((record) =>
        record.photo === undefined ? null : Buffer.from(record.photo, 'base64'),
      );
      const problems = await Promise.all(
        records.map((record, index) =>
          recordProblem(record, photos[index] ?? null, labels, latestDay),
        ),
      );
      records.forEach((record, index) => {
        const code = problems[index] ?? null;
        if (code !== null) {
          results[index] = { id: record.id, status: 'rejected', code };
          return;
        }
        const item = toNewFeedback(record, photos[index] ?? null);
        const first = firstById.get(record.id);
        if (first) {
          repeats.push({
            index,
            first: first.index,
            samePayload: first.hash === item.payloadSha256,
          });
          return;
        }
        firstById.set(record.id, { index, hash: item.payloadSha256 });
        toStore.push({ index, item });
      });

      const outcomes = await deps.store.insertMany(toStore.map(({ item }) => item));
      toStore.forEach(({ index, item }, i) => {
        results[index] = resultOf(item.id, outcomes[i] ?? 'conflict');
      });
      for (const { index, first, samePayload } of repeats) {
        const id = records[index]?.id ?? '';
        const earlier = results[first];
        results[index] =
          samePayload && earlier?.status !== 'rejected'
            ? { id, status: 'duplicate' }
            : { id, status: 'rejected', code: 'CONFLICT' };
      }
      for (const result of results) deps.onResult?.(result);
      return results;
    },
  };
}

async function recordProblem(
  record: FeedbackRecord,
  photo: Buffer | null,
  labels: LabelIndex,
  latestDay: string,
): Promise<ErrorCode | null> {
  if (record.day > latestDay) return 'VALIDATION_FAILED';
  const problem = feedbackRecordProblem(record, labels);
  if (problem !== null) return problem;
  return photo === null ? null : photoProblem(photo);
}

/** `photo`: the record's photo, decoded. */
function toNewFeedback(record: FeedbackRecord, photo: Buffer | null): NewFeedback {
  return {
    id: record.id,
    payloadSha256: createHash('sha256').update(canonicalJson(record)).digest('hex'),
    modelId: record.model.id,
    modelVersion: record.model.version,
    verdict: record.verdict,
    day: record.day,
    // The photo is stored as bytes beside the record, not as base64 inside it.
    recordJson: canonicalJson({ ...record, photo: undefined }),
    photo,
  };
}

function resultOf(id: string, outcome: InsertOutcome): FeedbackResult {
  if (outcome === 'conflict') return { id, status: 'rejected', code: 'CONFLICT' };
  return { id, status: outcome };
}
