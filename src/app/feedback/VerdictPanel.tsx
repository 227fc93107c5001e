import { useState } from 'react';
import type { Answer } from '../../core/answer';
import type { AppError } from '../../core/errors';
import type { Verdict } from '../../core/history-policy';
import type { Label } from '../../core/labels';
import { sameModel, type ModelRef } from '../../core/model-ref';
import { useModelStore } from '../inference/model-store';
import {
  retryQueueing,
  submitVerdict,
  type VerdictChoice,
  type VerdictSubmission,
} from './feedback-service';
import { useFeedbackStore } from './feedback-store';
import { SpeciesPicker, type PickerResult } from './SpeciesPicker';
import { speciesFor } from './species-list';

function describe(verdict: Verdict, species: Label[] | null): string {
  switch (verdict.kind) {
    case 'correct':
      return 'You confirmed this identification.';
    case 'corrected': {
      const name =
        species?.find((s) => s.line === verdict.correctedLabel)?.commonName ??
        verdict.correctedLabel;
      return `You corrected it to ${name}.`;
    }
    case 'not-an-animal':
      return 'You said there is no animal.';
    case 'unknown-species':
      return verdict.freeTextName
        ? `You said it is another species: ${verdict.freeTextName}.`
        : 'You said it is another species.';
  }
}

/**
 * Two taps to say whether a result is right. The verdict goes into the history entry and,
 * as an anonymous record, into the outbox that is sent when there is a network.
 */
export interface VerdictPanelProps {
  observationId: string | null;
  model: ModelRef;
  answer: Answer;
  verdict: Verdict | null;
  /** The photo itself, when there is one to send with a correction. */
  photo: Blob | null;
  onVerdict: (verdict: Verdict) => void;
}

export function VerdictPanel({
  observationId,
  model,
  answer,
  verdict,
  photo,
  onVerdict,
}: VerdictPanelProps) {
  const [species, setSpecies] = useState<Label[] | null>(null);
  const [picking, setPicking] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  const [changing, setChanging] = useState(false);
  const [notices, setNotices] = useState<AppError[]>([]);
  const [notQueuedId, setNotQueuedId] = useState<string | null>(null);
  const notQueued = useFeedbackStore(
    (s) => s.notQueued.find((entry) => entry.recordId === notQueuedId) ?? null,
  );
  // Until a verdict is queued, another one on the same observation would race it for what
  // it replaces: the buttons wait, here and in any other panel on the same observation.
  const [pending, setPending] = useState(false);
  const queueing = useFeedbackStore(
    (s) => observationId !== null && s.submitting.includes(observationId),
  );
  const busy = pending || queueing;

  const settle = (submission: VerdictSubmission | null) => {
    if (submission === null) return;
    setNotQueuedId(submission.kind === 'not-queued' ? submission.recordId : null);
    if (submission.kind === 'queued') {
      setChanging(false);
      setNotices(submission.notices);
      onVerdict(submission.verdict);
    } else if (submission.kind === 'invalid') setError(submission.error);
  };

  const submit = async (choice: VerdictChoice, sharePhoto = false) => {
    setError(null);
    setNotices([]);
    setPending(true);
    try {
      settle(
        await submitVerdict({
          observationId,
          model,
          answer,
          choice,
          photo: sharePhoto ? photo : null,
        }),
      );
    } finally {
      setPending(false);
    }
  };

  const openPicker = async () => {
    const { manifest } = useModelStore.getState();
    const entry = manifest?.models.find((m) => sameModel(m, model));
    if (!entry) {
      setError({
        code: 'MODEL_LOAD_FAILED',
        message: 'The species list of this model is not available any more.',
      });
      return;
    }
    try {
      setSpecies(await speciesFor(entry));
      setPicking(true);
    } catch (reason) {
      setError({
        code: 'MODEL_LOAD_FAILED',
        message: `The species list could not be loaded (${String(reason)}).`,
      });
    }
  };

  const onPicked = ({ choice, sharePhoto }: PickerResult) => {
    setPicking(false);
    void submit(choice, sharePhoto);
  };

  return (
    <div className="verdict" data-testid="verdict" data-kind={verdict?.kind ?? 'none'}>
      {verdict && !changing ? (
        <p>
          {describe(verdict, species)}{' '}
          <button type="button" className="link" disabled={busy} onClick={() => setChanging(true)}>
            Change
          </button>
        </p>
      ) : (
        <div className="row wrap" role="group" aria-label="Is this right?">
          {answer.kind === 'animal' && (
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => void submit({ kind: 'correct' })}
            >
              Correct
            </button>
          )}
          {answer.kind === 'no-animal' && (
            <button
              type="button"
              className="button"
              disabled={busy}
              onClick={() => void submit({ kind: 'not-an-animal' })}
            >
              Right, no animal
            </button>
          )}
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => void openPicker()}
          >
            {answer.kind === 'animal' ? 'Wrong species?' : 'Pick the species'}
          </button>
        </div>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error.message}
        </p>
      )}
      {notQueued && (
        <p className="error-text" role="alert" data-testid="verdict-not-queued">
          Your verdict could not be queued: {notQueued.error.message}{' '}
          <button
            type="button"
            className="link"
            disabled={busy}
            onClick={() => void retryQueueing(notQueued.recordId).then(settle)}
          >
            Retry
          </button>
        </p>
      )}
      {/* Mounted before its text: a live region inserted with its text may not be read. */}
      <div className="muted small" role="status" data-testid="verdict-notices">
        {notices.map((notice) => (
          <p key={notice.code} data-code={notice.code}>
            {notice.message}
          </p>
        ))}
      </div>
      {picking && species && (
        <SpeciesPicker
          species={species}
          canSharePhoto={photo !== null}
          onDone={onPicked}
          onCancel={() => setPicking(false)}
        />
      )}
    </div>
  );
}
