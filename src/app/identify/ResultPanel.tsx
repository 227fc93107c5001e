import { useEffect, useRef } from 'react';
import { WARNING_MESSAGES } from '../../core/errors';
import type { Routing } from '../../core/cascade';
import { formatModelRef } from '../../core/model-ref';
import type { SummaryKind } from '../../core/taxonomy-answer';
import type { Classification } from '../../worker/api/protocol';
import { VerdictPanel } from '../feedback/VerdictPanel';
import { SpecialistProgress } from '../inference/SpecialistProgress';
import { useModelStore } from '../inference/model-store';
import { AnswerPath, AnswerTitle } from '../ui/AnswerTitle';
import { plural, withArticle } from '../ui/answer-text';
import { BlobImage } from '../ui/BlobImage';
import { PredictionList } from '../ui/PredictionList';
import { useIdentifyStore, verdictGiven } from './identify-store';

const EXPLANATIONS: Record<SummaryKind, string> = {
  species: 'Most likely first.',
  group:
    'No single species is likely enough to be named, but the candidates agree on the group. The closest ones:',
  'not-sure': 'None of the candidates is likely enough to be named. The closest ones:',
  'no-animal':
    'The model sees no animal it knows here. The closest animals, for what they are worth:',
};

function explanationOf(result: Classification): string {
  if (result.routing?.outsideGroup) {
    return `The model you chose knows only ${plural(result.routing.outsideGroup)}, and the general model does not see one here. What the general model sees:`;
  }
  const kind: SummaryKind =
    result.summary?.kind ?? (result.answer.kind === 'animal' ? 'species' : result.answer.kind);
  return EXPLANATIONS[kind];
}

/** Says which specialist should have answered and why it could not: offline, say. */
function MissingSpecialist({ missing }: { missing: NonNullable<Routing['missing']> }) {
  const name = useModelStore(
    (s) => s.manifest?.models.find((m) => m.id === missing.modelId)?.name ?? missing.modelId,
  );
  return (
    <p
      className="notice"
      role="status"
      data-testid="specialist-missing"
      data-model={missing.modelId}
    >
      This looks like {withArticle(missing.group)}, but the {name} model that names {missing.group}{' '}
      species is not on this device and could not be downloaded ({missing.reason}). This is the
      general model&rsquo;s answer; the {name} model will be used once there is a network, or
      download it for offline use in Settings.
    </p>
  );
}

/** Each photo's own answer, behind the combined one. */
function SameAnimalParts({ parts }: { parts: { name: string; result: Classification }[] }) {
  return (
    <details className="same-animal-parts" data-testid="same-animal-parts">
      <summary>From {parts.length} photos of one animal: each photo&rsquo;s own answer</summary>
      <ul>
        {parts.map(({ name, result }, i) => (
          <li
            key={i}
            data-testid="same-animal-part"
            data-file={name}
            data-label={result.answer.top[0]?.label}
          >
            <b>{name}</b>:{' '}
            <AnswerTitle
              as="span"
              answer={result.answer}
              summary={result.summary}
              routing={result.routing}
            />
          </li>
        ))}
      </ul>
    </details>
  );
}

export function ResultPanel() {
  const current = useIdentifyStore((s) => s.current);
  const answerRef = useRef<HTMLDivElement>(null);
  const answeredId = current !== null && current.state !== 'working' ? current.id : null;

  // On a phone the answer is below the photo inputs: bring it into view and give it focus
  // (so a screen reader reads it), once per photo, when it arrives.
  useEffect(() => {
    const element = answerRef.current;
    if (answeredId === null || element === null) return;
    element.focus({ preventScroll: true });
    element.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, [answeredId]);

  if (current === null) {
    return (
      <p className="hint">
        Choose a photo to see which animal it shows. Photos are identified on this device. Only a
        correction you make is sent, when there is a network: the model, the labels, your verdict
        and the day; the photo only if you tick the box.
      </p>
    );
  }
  return (
    <section className="result" aria-live="polite" aria-busy={current.state === 'working'}>
      {current.preview && (
        <BlobImage className="preview" blob={current.preview} alt={`Photo: ${current.name}`} />
      )}
      {current.state === 'working' && (
        <>
          <p>Identifying {current.name}…</p>
          <SpecialistProgress />
        </>
      )}
      {current.state === 'error' && (
        <div
          ref={answerRef}
          tabIndex={-1}
          className="error"
          role="alert"
          data-testid="error"
          data-code={current.error.code}
          data-file={current.name}
        >
          <p>
            <b>{current.name}</b>: {current.error.message}
          </p>
          {current.error.code === 'UNSUPPORTED_FORMAT' && current.error.detail && (
            <p>{current.error.detail}</p>
          )}
        </div>
      )}
      {current.state === 'done' && (
        <div
          ref={answerRef}
          tabIndex={-1}
          className="answer"
          data-testid="result"
          data-file={current.name}
          data-kind={current.result.answer.kind}
          data-model={current.result.model.id}
          data-via-group={current.result.routing?.via?.group}
          data-total-ms={current.totalMs === null ? undefined : current.totalMs.toFixed(1)}
        >
          <AnswerTitle
            answer={current.result.answer}
            summary={current.result.summary}
            routing={current.result.routing}
          />
          <AnswerPath summary={current.result.summary} />
          {current.parts.length > 0 && <SameAnimalParts parts={current.parts} />}
          {current.result.routing?.missing && (
            <MissingSpecialist missing={current.result.routing.missing} />
          )}
          <p className="muted">{explanationOf(current.result)}</p>
          <PredictionList predictions={current.result.answer.top} />
          <VerdictPanel
            observationId={current.observationId}
            model={current.result.model}
            answer={current.result.answer}
            answerPath={current.result.summary?.path}
            verdict={current.verdict}
            photo={current.preview}
            onVerdict={(verdict) => verdictGiven(current.id, verdict)}
          />
          {current.result.warnings.length > 0 && (
            <ul className="warnings" data-testid="warnings">
              {current.result.warnings.map((code) => (
                <li key={code} data-code={code}>
                  {WARNING_MESSAGES[code]}
                </li>
              ))}
            </ul>
          )}
          <p className="details" data-testid="result-details">
            {current.name} · {current.result.width}×{current.result.height} ·{' '}
            {(current.result.timings.decodeMs + current.result.timings.inferenceMs).toFixed(0)} ms
            on {current.result.backend} · {formatModelRef(current.result.model)}
            {current.result.routing?.via && (
              <> (after {formatModelRef(current.result.routing.via.model)})</>
            )}
            {current.totalMs !== null && <> · {current.totalMs.toFixed(0)} ms end to end</>}
          </p>
        </div>
      )}
    </section>
  );
}
