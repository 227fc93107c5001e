import type { Answer } from '../../core/answer';
import { fail, ok, type Result } from '../../core/errors';
import { feedbackRecordSchema, MAX_TOP, type FeedbackRecordInput } from '../../core/feedback';
import { newUuid, type Verdict } from '../../core/history-policy';
import { localDay } from '../../core/outbox-policy';
import { enqueue, outboxCounts } from '../../outbox/outbox-db';
import { flushOutbox, OUTBOX_CHANNEL, SYNC_TAG } from '../../outbox/sender';
import { flushRecording } from '../history/recording';
import { setObservationVerdict } from '../stores/history-store';
import { useFeedbackStore } from '../stores/feedback-store';
import { shareablePhoto } from './photo-share';

/**
 * A verdict becomes an anonymous feedback record in the outbox, and the outbox is sent
 * whenever there is a network: at start, on the `online` event, right after a verdict,
 * at the next scheduled retry, and through Background Sync where the browser has it.
 */

export type VerdictChoice =
  | { kind: 'correct' }
  | { kind: 'corrected'; label: string }
  | { kind: 'not-an-animal' }
  | { kind: 'unknown-species'; freeTextName: string | null };

export interface VerdictInput {
  observationId: string | null;
  /** "id@version" of the model that gave the answer. */
  model: string;
  answer: Answer;
  choice: VerdictChoice;
  /** The original photo, only when the user opted in to sharing it. */
  photo: Blob | null;
}

let retryTimer: ReturnType<typeof setTimeout> | undefined;

export async function refreshOutboxCounts(): Promise<void> {
  const counts = await outboxCounts();
  useFeedbackStore.setState(counts);
  clearTimeout(retryTimer);
  if (counts.waiting > 0 && counts.nextAttemptAt !== null) {
    const delay = Math.max(0, counts.nextAttemptAt - Date.now());
    retryTimer = setTimeout(() => void sendNow(), delay + 50);
  }
}

export async function sendNow(options: { ignoreSchedule?: boolean } = {}): Promise<void> {
  if (!navigator.onLine) return;
  await flushOutbox(fetch, options);
  await refreshOutboxCounts();
}

async function askForBackgroundSync(): Promise<void> {
  const registration = await navigator.serviceWorker?.getRegistration();
  const sync = (registration as { sync?: { register(tag: string): Promise<void> } } | undefined)
    ?.sync;
  await sync?.register(SYNC_TAG).catch(() => {});
}

export function startFeedback(): void {
  void refreshOutboxCounts().then(() => sendNow({ ignoreSchedule: true }));
  window.addEventListener('online', () => void sendNow({ ignoreSchedule: true }));
  if (typeof BroadcastChannel !== 'undefined') {
    // The service worker sent something (Background Sync): show the new count.
    new BroadcastChannel(OUTBOX_CHANNEL).onmessage = () => void refreshOutboxCounts();
  }
}

function toVerdict(choice: VerdictChoice, decidedAt: number): Verdict {
  switch (choice.kind) {
    case 'correct':
      return { kind: 'correct', decidedAt };
    case 'corrected':
      return { kind: 'corrected', correctedLabel: choice.label, decidedAt };
    case 'not-an-animal':
      return { kind: 'not-an-animal', decidedAt };
    case 'unknown-species':
      return { kind: 'unknown-species', freeTextName: choice.freeTextName, decidedAt };
  }
}

export async function submitVerdict(input: VerdictInput): Promise<Result<Verdict>> {
  const at = input.model.lastIndexOf('@');
  const predicted = input.answer.kind === 'animal' ? (input.answer.top[0]?.label ?? null) : null;
  // Picking the species that was predicted is a confirmation, whatever button led there.
  const choice: VerdictChoice =
    input.choice.kind === 'corrected' && input.choice.label === predicted
      ? { kind: 'correct' }
      : input.choice;
  const photo = input.photo ? await shareablePhoto(input.photo) : null;
  const draft: FeedbackRecordInput = {
    id: newUuid(),
    model: { id: input.model.slice(0, at), version: input.model.slice(at + 1) },
    predicted,
    verdict: choice.kind,
    day: localDay(new Date()),
    top: input.answer.top
      .slice(0, MAX_TOP)
      .map(({ label, probability }) => ({ label, probability })),
    appVersion: __APP_VERSION__,
    ...(choice.kind === 'corrected' ? { correctedLabel: choice.label } : {}),
    ...(choice.kind === 'unknown-species' && choice.freeTextName
      ? { freeTextName: choice.freeTextName }
      : {}),
    ...(photo ? { photo } : {}),
  } as FeedbackRecordInput;
  const parsed = feedbackRecordSchema.safeParse(draft);
  if (!parsed.success) return fail('VALIDATION_FAILED', parsed.error.issues[0]?.message);

  const now = Date.now();
  await enqueue(parsed.data, input.observationId, now);
  const verdict = toVerdict(choice, now);
  if (input.observationId !== null) {
    await flushRecording();
    await setObservationVerdict(input.observationId, verdict);
  }
  await refreshOutboxCounts();
  if (navigator.onLine) void sendNow();
  else void askForBackgroundSync();
  return ok(verdict);
}
