import { useId } from 'react';
import type { ChannelChoice } from '../../core/model-channels';
import type { ModelManifest } from '../../core/model-manifest';
import type { ModelRef } from '../../core/model-ref';

interface Props {
  /** The manifest as this device resolved it; null before the first one. */
  manifest: ModelManifest | null;
  choices: readonly ChannelChoice[];
  /** The general model in the worker: offline it may be an older stored version. */
  loaded: ModelRef | null;
  tryCandidates: boolean;
  disabled: boolean;
  onTryCandidates(on: boolean): void;
}

export const TRY_CANDIDATES_LABEL = 'Try new model versions before everyone else';

/**
 * Which version of each model this device uses, and whether it takes part in rollouts. The
 * version in use is shown rather than the one listed: offline they can differ, and this is
 * what answers the photos.
 */
export function ModelVersions({
  manifest,
  choices,
  loaded,
  tryCandidates,
  disabled,
  onTryCandidates,
}: Props) {
  const hintId = useId();
  return (
    <fieldset className="model-versions" data-testid="model-versions">
      <legend>Model versions</legend>
      {manifest !== null && (
        <ul className="versions">
          {manifest.models.map((m) => {
            const choice = choices.find((c) => c.id === m.id);
            const version = loaded?.id === m.id ? loaded.version : m.version;
            return (
              <li
                key={m.id}
                data-testid="model-channel"
                data-model={m.id}
                data-channel={choice?.channel ?? 'unknown'}
                data-version={version}
              >
                <b>{m.name}</b> <span>version {version}</span>{' '}
                <ChannelLabel choice={choice} version={version} />
              </li>
            );
          })}
        </ul>
      )}
      <label className="choice">
        <input
          type="checkbox"
          checked={tryCandidates}
          disabled={disabled}
          aria-describedby={hintId}
          onChange={(event) => onTryCandidates(event.target.checked)}
        />
        <span>{TRY_CANDIDATES_LABEL}</span>
      </label>
      <p id={hintId} className="small muted">
        A new model version first goes to a share of devices, and to everyone once it has done well
        there. Unticked, this device always uses the stable version.
        {disabled && ' The model cannot change while a batch is running.'}
      </p>
    </fieldset>
  );
}

function ChannelLabel({ choice, version }: { choice: ChannelChoice | undefined; version: string }) {
  // The manifest was rebuilt offline from the stored versions: no channel is known.
  if (choice === undefined) return <span className="muted">Stored on this device</span>;
  // Offline without the listed version, or busy when the listed version changed.
  if (choice.version !== version) {
    return <span className="muted">In use until version {choice.version} can be loaded</span>;
  }
  if (choice.channel === 'candidate') {
    return <span className="badge">Trying a new version (candidate)</span>;
  }
  return <span className="muted">Stable version</span>;
}
