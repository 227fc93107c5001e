import { useBatchStore } from '../batch/batch-store';
import { useCameraStore } from '../camera/camera-store';
import { applyUpdate } from './pwa';
import { usePwaStore } from './pwa-store';

/** Offered, never forced: an update cannot cut a batch or a camera session short. */
export function UpdatePrompt() {
  const waiting = usePwaStore((s) => s.updateWaiting);
  const batchRunning = useBatchStore((s) => s.run.kind === 'running');
  const cameraOpen = useCameraStore((s) => s.open);
  if (!waiting) return null;
  const busy = batchRunning || cameraOpen;
  return (
    <div className="update-prompt" role="status" data-testid="update-prompt">
      <span>A new version is ready.</span>
      {busy && (
        <span className="muted small">
          You can reload once the {batchRunning ? 'batch' : 'camera'} is finished.
        </span>
      )}
      <button type="button" className="button primary" onClick={applyUpdate} disabled={busy}>
        Reload
      </button>
    </div>
  );
}
