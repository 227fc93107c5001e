import { useEffect, useRef, useState } from 'react';
import type { Answer } from '../../core/answer';
import type { AppError } from '../../core/errors';
import type { Verdict } from '../../core/history-policy';
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
import { speciesFor, type SpeciesList } from './species-list';

function describe(verdict: Verdict, species: SpeciesList | null): string {
  switch (verdict.kind) {
    case 'correct':
      return 'You confirmed this identification.';
    case 'corrected': {
      const name =
        species?.species.find((s) => s.line === verdict.correctedLabel)?.name ??
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
  /**
   * The groups of the answer, broad to narrow (the answer summary's path), for the picker's
   * group filters; without it they come from the first candidate.
   */
  answerPath?: readonly string[] | undefined;
}

/** Where the keyboard goes once the panel has settled after the picker or "Change". */
type FocusAfter = 'opener' | 'verdict' | 'choices';

export function VerdictPanel({
  observationId,
  model,
  answer,
  verdict,
  photo,
  onVerdict,
  answerPath,
}: VerdictPanelProps) {
  const [species, setSpecies] = useState<SpeciesList | null>(null);
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

  const opener = useRef<HTMLButtonElement>(null);
  const changeButton = useRef<HTMLButtonElement>(null);
  const choices = useRef<HTMLDivElement>(null);
  const focusAfter = useRef<FocusAfter | null>(null);
  // Whatever the picker or "Change" replaced had the focus; without this it would fall to
  // the page's start, and a keyboard user would have to find the result again.
  useEffect(() => {
    const want = focusAfter.current;
    if (want === null || picking || busy) return;
    const target =
      want === 'choices'
        ? choices.current?.querySelector('button')
        : want === 'verdict'
          ? (changeButton.current ?? opener.current)
          : (opener.current ?? changeButton.current);
    if (target) {
      target.focus();
      focusAfter.current = null;
    }
  });

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
    focusAfter.current = 'verdict';
    setPicking(false);
    void submit(choice, sharePhoto);
  };

  return (
    <div className="verdict" data-testid="verdict" data-kind={verdict?.kind ?? 'none'}>
      {verdict && !changing ? (
        <p>
          {describe(verdict, species)}{' '}
          <button
            ref={changeButton}
            type="button"
            className="link"
            disabled={busy}
            onClick={() => {
              focusAfter.current = 'choices';
              setChanging(true);
            }}
          >
            Change
          </button>
        </p>
      ) : (
        <div ref={choices} className="row wrap" role="group" aria-label="Is this right?">
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
            ref={opener}
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
          list={species}
          top={answer.top}
          answerPath={answerPath}
          canSharePhoto={photo !== null}
          onDone={onPicked}
          onCancel={() => {
            focusAfter.current = 'opener';
            setPicking(false);
          }}
        />
      )}
    </div>
  );
}
