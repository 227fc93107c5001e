import type { ModelManifest } from '../../core/model-manifest';
import { megabytes } from '../ui/format';
import {
  generalModelOf,
  modelChoice,
  orList,
  plural,
  specialistsOf,
  withArticle,
} from './model-choice';

interface Props {
  manifest: ModelManifest;
  modelId: string | null;
  disabled: boolean;
  /** null for Auto. */
  onChoose(modelId: string | null): void;
}

/**
 * Auto first, as the recommended default; then each model alone, for experts who know
 * which group their photos show.
 */
export function ModelChoiceFieldset({ manifest, modelId, disabled, onChoose }: Props) {
  const choice = modelChoice(manifest, modelId);
  const general = generalModelOf(manifest);
  const specialists = specialistsOf(manifest);
  const groups = specialists.map((s) => s.group);
  const autoBytes = [general, ...specialists.map((s) => s.entry)].reduce(
    (sum, m) => sum + m.totalBytes,
    0,
  );

  return (
    <fieldset disabled={disabled} data-testid="model-choice">
      <legend>Model</legend>
      {disabled && <p className="muted">The model cannot change while a batch is running.</p>}
      <label className="choice" data-testid="model-option" data-model="auto">
        <input
          type="radio"
          name="model"
          value="auto"
          checked={choice.kind === 'auto'}
          onChange={() => onChoose(null)}
        />
        <span>
          <b>Auto (recommended)</b> <span className="muted">({megabytes(autoBytes)} in all)</span>
          <br />
          <span className="small">
            {groups.length === 0
              ? `${general.name} answers every photo; no specialist model is available.`
              : `${general.name} looks at each photo first; when it sees ${orList(groups.map(withArticle))}, the ${orList(groups.map(plural))} model names the species.`}
          </span>
        </span>
      </label>
      <p className="small muted">
        For experts, one model alone.
        {groups.length > 0 &&
          ` A specialist chosen here answers only for photos of its group: any other photo is said not to be ${orList(groups.map(withArticle))}.`}
      </p>
      {manifest.models.map((m) => {
        const group = specialists.find((s) => s.entry.id === m.id)?.group;
        return (
          <label key={m.id} className="choice" data-testid="model-option" data-model={m.id}>
            <input
              type="radio"
              name="model"
              value={m.id}
              checked={choice.kind === 'chosen' && choice.entry.id === m.id}
              onChange={() => onChoose(m.id)}
            />
            <span>
              <b>{m.name} only</b>{' '}
              <span className="muted">
                ({megabytes(m.totalBytes)}, version {m.version})
              </span>
              <br />
              <span className="small">{m.description}</span>
              {group !== undefined && (
                <>
                  <br />
                  <span className="small">
                    Only for photos of {plural(group)}: another photo is said not to be{' '}
                    {withArticle(group)}.
                  </span>
                </>
              )}
            </span>
          </label>
        );
      })}
    </fieldset>
  );
}
