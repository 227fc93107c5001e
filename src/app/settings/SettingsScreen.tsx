import { BACKENDS, medianOf, type BackendPreference } from '../../core/backend-choice';
import { useBatchStore } from '../batch/batch-store';
import { recallBackend } from '../inference/backend-memory';
import {
  applyBackendPreference,
  applyCandidatePreference,
  startModel,
} from '../inference/inference';
import { useModelStore } from '../inference/model-store';
import { ModelChoiceFieldset } from './ModelChoiceFieldset';
import { ModelVersions } from './ModelVersions';
import { OfflinePacks } from './OfflinePacks';
import { useSettingsStore } from './settings-store';

function BackendFigures() {
  const trial = useModelStore((s) => s.trial);
  const entry = useModelStore((s) => s.entry);
  if (trial.kind === 'running') return <p>Measuring {trial.candidate}…</p>;
  if (trial.kind === 'done') {
    return (
      <ul data-testid="backend-measurements">
        {trial.measurements.map((m) => (
          <li key={m.backend}>
            {m.backend}: {medianOf(m)?.toFixed(0) ?? '—'} ms per photo
            {m.failure ? ` (${m.failure})` : ''}
          </li>
        ))}
      </ul>
    );
  }
  const remembered = entry ? recallBackend(entry) : null;
  if (remembered === null) return null;
  return (
    <p>
      Measured on this device: {remembered.backend} was fastest (
      {Object.entries(remembered.mediansMs)
        .map(([name, ms]) => `${name} ${ms === null ? '—' : `${ms.toFixed(0)} ms`}`)
        .join(', ')}
      ).
    </p>
  );
}

/** A forced backend that would not start: the model still answers on the one it had. */
function BackendSwitchNotice() {
  const failure = useModelStore((s) => s.switchFailure);
  const status = useModelStore((s) => s.status);
  if (failure === null) return null;
  return (
    <p className="error-text" role="alert" data-testid="backend-switch-failed">
      {failure.requested} could not be started here ({failure.error.message})
      {status.kind === 'ready' && `; identification goes on with ${status.backend}`}.
    </p>
  );
}

export function SettingsScreen() {
  const manifest = useModelStore((s) => s.manifest);
  const choices = useModelStore((s) => s.choices);
  const loaded = useModelStore((s) => s.loadedVersions);
  const modelId = useSettingsStore((s) => s.modelId);
  const preference = useSettingsStore((s) => s.backendPreference);
  const tryCandidates = useSettingsStore((s) => s.tryCandidates);
  const batchRunning = useBatchStore((s) => s.run.kind === 'running');

  return (
    <div className="settings">
      {manifest && (
        <ModelChoiceFieldset
          manifest={manifest}
          modelId={modelId}
          disabled={batchRunning}
          onChoose={(id) => {
            useSettingsStore.getState().setModelId(id);
            void startModel();
          }}
        />
      )}
      <ModelVersions
        manifest={manifest}
        choices={choices}
        loaded={loaded}
        tryCandidates={tryCandidates}
        disabled={batchRunning}
        onTryCandidates={(on) => void applyCandidatePreference(on)}
      />
      <fieldset>
        <legend>Compute backend</legend>
        {(['auto', ...BACKENDS] as BackendPreference[]).map((b) => (
          <label key={b} className="choice">
            <input
              type="radio"
              name="backend"
              value={b}
              checked={preference === b}
              onChange={() => void applyBackendPreference(b)}
            />
            <span>{b === 'auto' ? 'Automatic (fastest measured on this device)' : b}</span>
          </label>
        ))}
        <BackendSwitchNotice />
        <BackendFigures />
      </fieldset>
      <OfflinePacks />
      <p className="muted small" data-testid="app-version">
        Field ID version {__APP_VERSION__}
      </p>
    </div>
  );
}
