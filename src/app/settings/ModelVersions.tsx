import { useId } from 'react';
import type { ChannelChoice } from '../../core/model-channels';
import type { ModelManifest } from '../../core/model-manifest';
import type { ModelRef } from '../../core/model-ref';

interface Props {
  /** The manifest as this device resolved it; null before the first one. */
  manifest: ModelManifest | null;
  choices: readonly ChannelChoice[];
  /** Every version the worker runs, general model and specialists: offline, older stored ones may run. */
  loaded: readonly ModelRef[];
  tryCandidates: boolean;
  /** A batch is running: the setting cannot change now (the model must not), and says why. */
  disabled: boolean;
  onTryCandidates(on: boolean): void;
}

export const TRY_CANDIDATES_LABEL = 'Try new model versions before everyone else';

const BUSY_REASON = ' The model cannot change while a batch is running.';

/**
 * Which version of each model this device uses, and whether it takes part in rollouts. For
 * every model the worker runs, the version shown is the one it runs rather than the one
 * listed: offline they can differ, and this is what answers the photos. A polite status
 * line says what changed, so that ticking the box is heard, not only seen.
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
            const version = loaded.find((ref) => ref.id === m.id)?.version ?? m.version;
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
      <p role="status" className="small" data-testid="model-versions-status">
        {statusText(manifest, choices, tryCandidates)}
      </p>
      <TryCandidatesChoice
        checked={tryCandidates}
        disabled={disabled}
        hintId={hintId}
        onTryCandidates={onTryCandidates}
      />
      <p id={hintId} className="small muted">
        A new model version first goes to a share of devices, and to everyone once it has done well
        there. Unticked, this device always uses the stable version.
        {disabled && BUSY_REASON}
      </p>
    </fieldset>
  );
}

/**
 * The checkbox. During a batch it is aria-disabled rather than disabled: it stays in the tab
 * order, so that a screen reader user reaches it and hears why it cannot change (its
 * description says), and a change is refused here instead.
 */
export function TryCandidatesChoice({
  checked,
  disabled,
  hintId,
  onTryCandidates,
}: {
  checked: boolean;
  disabled: boolean;
  hintId: string;
  onTryCandidates(on: boolean): void;
}) {
  return (
    <label className="choice">
      <input
        type="checkbox"
        checked={checked}
        aria-disabled={disabled || undefined}
        aria-describedby={hintId}
        // Controlled: a refused change leaves `checked` as it was, and React puts the box back.
        onChange={(event) => {
          if (!disabled) onTryCandidates(event.target.checked);
        }}
      />
      <span>{TRY_CANDIDATES_LABEL}</span>
    </label>
  );
}

/** What the status line says: which models are being tried, or that all are stable. */
function statusText(
  manifest: ModelManifest | null,
  choices: readonly ChannelChoice[],
  tryCandidates: boolean,
): string {
  if (manifest === null) return '';
  // The manifest was rebuilt offline from the stored versions: no channel is known.
  if (choices.length === 0) return 'Using the versions stored on this device.';
  const tried = manifest.models
    .filter((m) => choices.find((c) => c.id === m.id)?.channel === 'candidate')
    .map((m) => m.name);
  if (tried.length > 0) return `Trying a new version of ${tried.join(', ')}.`;
  if (tryCandidates && choices.some((c) => c.otherVersion !== null)) {
    return 'Using the stable versions: a new version is going to a share of devices, not yet this one.';
  }
  return 'Using the stable version of every model.';
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
