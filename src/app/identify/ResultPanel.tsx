import { WARNING_MESSAGES } from '../../core/errors';
import type { Answer } from '../../core/answer';
import { formatModelRef } from '../../core/model-ref';
import { VerdictPanel } from '../feedback/VerdictPanel';
import { BlobImage } from '../ui/BlobImage';
import { PredictionList } from '../ui/PredictionList';
import { useIdentifyStore, verdictGiven } from './identify-store';

const HEADINGS: Record<Answer['kind'], (answer: Answer) => string> = {
  animal: (answer) => answer.top[0]?.name ?? 'Animal',
  'not-sure': () => 'Not sure',
  'no-animal': () => 'No animal recognised',
};

const EXPLANATIONS: Record<Answer['kind'], string> = {
  animal: 'Most likely species first.',
  'not-sure': 'None of the candidates is likely enough to be named. The closest ones:',
  'no-animal':
    'The model sees no animal it knows here. The closest animals, for what they are worth:',
};

export function ResultPanel() {
  const current = useIdentifyStore((s) => s.current);
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
      {current.state === 'working' && <p>Identifying {current.name}…</p>}
      {current.state === 'error' && (
        <div
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
          data-testid="result"
          data-file={current.name}
          data-kind={current.result.answer.kind}
          data-total-ms={current.totalMs === null ? undefined : current.totalMs.toFixed(1)}
        >
          <h2>{HEADINGS[current.result.answer.kind](current.result.answer)}</h2>
          <p className="muted">{EXPLANATIONS[current.result.answer.kind]}</p>
          <PredictionList predictions={current.result.answer.top} />
          <VerdictPanel
            observationId={current.observationId}
            model={current.result.model}
            answer={current.result.answer}
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
          <p className="muted small" data-testid="result-details">
            {current.name} · {current.result.width}×{current.result.height} ·{' '}
            {(current.result.timings.decodeMs + current.result.timings.inferenceMs).toFixed(0)} ms
            on {current.result.backend} · {formatModelRef(current.result.model)}
            {current.totalMs !== null && <> · {current.totalMs.toFixed(0)} ms end to end</>}
          </p>
        </div>
      )}
    </section>
  );
}
