import { BACKENDS, medianOf, type BackendPreference } from '../../core/backend-choice';
import { modelRef } from '../../core/model-manifest';
import { megabytes, OfflinePacks } from './OfflinePacks';
import { recallBackend } from '../services/backend-memory';
import { applyBackendPreference, startModel } from '../services/inference';
import { useBatchStore } from '../stores/batch-store';
import { useModelStore } from '../stores/model-store';
import { useSettingsStore } from '../stores/settings-store';

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
  const remembered = entry ? recallBackend(modelRef(entry)) : null;
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

export function SettingsScreen() {
  const manifest = useModelStore((s) => s.manifest);
  const modelId = useSettingsStore((s) => s.modelId) ?? manifest?.defaultModel;
  const preference = useSettingsStore((s) => s.backendPreference);
  const batchRunning = useBatchStore((s) => s.run.kind === 'running');

  return (
    <div className="settings">
      <fieldset disabled={batchRunning}>
        <legend>Model</legend>
        {batchRunning && <p className="muted">The model cannot change while a batch is running.</p>}
        {manifest?.models.map((m) => (
          <label key={m.id} className="choice">
            <input
              type="radio"
              name="model"
              value={m.id}
              checked={m.id === modelId}
              onChange={() => {
                useSettingsStore.getState().setModelId(m.id);
                void startModel();
              }}
            />
            <span>
              <b>{m.name}</b>{' '}
              <span className="muted">
                ({megabytes(m.totalBytes)}, version {m.version})
              </span>
              <br />
              <span className="small">{m.description}</span>
            </span>
          </label>
        ))}
      </fieldset>
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
        <BackendFigures />
      </fieldset>
      <OfflinePacks />
      <p className="muted small" data-testid="app-version">
        Field ID version {__APP_VERSION__}
      </p>
    </div>
  );
}
