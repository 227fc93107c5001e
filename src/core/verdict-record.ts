import type { Answer } from './answer';
import { fail, ok, type Result } from './errors';
import {
  describeIssues,
  feedbackRecordSchema,
  MAX_TOP,
  type FeedbackRecord,
  type FeedbackRecordInput,
} from './feedback';
import type { Verdict } from './history-policy';
import type { ModelRef } from './model-ref';

/**
 * From the user's verdict on one identification to the anonymous record the outbox sends.
 * The history keeps the same verdict with the time it was given; the record carries only
 * the day.
 */

type WithoutDecidedAt<T> = T extends unknown ? Omit<T, 'decidedAt'> : never;

/**
 * What the user chose, before it is stamped: the history's `Verdict` without its time, so
 * the two can never disagree on a field's name or meaning.
 */
export type VerdictChoice = WithoutDecidedAt<Verdict>;

export function stampVerdict(choice: VerdictChoice, decidedAt: number): Verdict {
  return { ...choice, decidedAt };
}

/** The top-1 label line the user was shown; null when the answer named no animal. */
export function predictedLabel(answer: Pick<Answer, 'kind' | 'top'>): string | null {
  return answer.kind === 'animal' ? (answer.top[0]?.label ?? null) : null;
}

/**
 * Picking the species that was predicted is a confirmation, whatever button led there:
 * the record schema refuses a "correction" to the predicted label, and the history should
 * say the same as the record.
 */
export function settleChoice(choice: VerdictChoice, predicted: string | null): VerdictChoice {
  return choice.kind === 'corrected' && choice.correctedLabel === predicted
    ? { kind: 'correct' }
    : choice;
}

export interface VerdictRecordInput {
  model: ModelRef;
  answer: Pick<Answer, 'kind' | 'top'>;
  choice: VerdictChoice;
}

/** What the record takes from outside the verdict: made by the caller, so this stays pure. */
export interface VerdictRecordContext {
  id: string;
  /** The user's local calendar day (`localDay`). */
  day: string;
  appVersion: string;
  /** The re-encoded, opted-in photo as base64; null when none is shared. */
  photo: string | null;
}

export interface BuiltVerdictRecord {
  record: FeedbackRecord;
  /** The choice after `settleChoice`: what the history should keep. */
  choice: VerdictChoice;
}

/** The record checked against the schema the server applies, before it enters the outbox. */
export function buildVerdictRecord(
  input: VerdictRecordInput,
  context: VerdictRecordContext,
): Result<BuiltVerdictRecord> {
  const predicted = predictedLabel(input.answer);
  const choice = settleChoice(input.choice, predicted);
  const draft = {
    id: context.id,
    model: { id: input.model.id, version: input.model.version },
    predicted,
    verdict: choice.kind,
    day: context.day,
    top: input.answer.top
      .slice(0, MAX_TOP)
      .map(({ label, probability }) => ({ label, probability })),
    appVersion: context.appVersion,
    ...(choice.kind === 'corrected' ? { correctedLabel: choice.correctedLabel } : {}),
    ...(choice.kind === 'unknown-species' && choice.freeTextName
      ? { freeTextName: choice.freeTextName }
      : {}),
    ...(context.photo === null ? {} : { photo: context.photo }),
  } as FeedbackRecordInput;
  const parsed = feedbackRecordSchema.safeParse(draft);
  if (!parsed.success) return fail('VALIDATION_FAILED', describeIssues(parsed.error));
  return ok({ record: parsed.data, choice });
}
