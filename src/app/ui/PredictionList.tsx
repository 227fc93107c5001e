import type { Prediction } from '../../core/answer';
import { SpeciesName } from './SpeciesName';

export function percent(probability: number): string {
  return `${(probability * 100).toFixed(probability >= 0.1 ? 0 : 1)}%`;
}

export function PredictionList({
  predictions,
  testId = 'prediction',
}: {
  predictions: Prediction[];
  testId?: string;
}) {
  return (
    <ol className="predictions" aria-label="Candidates, most likely first">
      {predictions.map((p) => (
        <li
          key={p.index}
          data-testid={testId}
          data-label={p.label}
          data-probability={p.probability.toFixed(6)}
        >
          <span className="name">
            <SpeciesName common={p.name} scientific={p.scientificName} />
          </span>
          <span className="probability">{percent(p.probability)}</span>
          <span className="bar" aria-hidden="true">
            <span style={{ width: `${Math.max(1, p.probability * 100)}%` }} />
          </span>
        </li>
      ))}
    </ol>
  );
}
