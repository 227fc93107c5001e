import { formatModelRef } from '../../core/model-ref';
import { startModel } from './inference';
import { useModelStore } from './model-store';

/** Which model and backend answer, and how the download is going. Always visible. */
export function StatusBar() {
  const status = useModelStore((s) => s.status);
  const busy = useModelStore((s) => s.activeCalls > 0);
  return (
    <div className="status-bar" role="status" aria-live="polite">
      {status.kind === 'idle' && <span>Starting…</span>}
      {status.kind === 'loading' && (
        <>
          <span>Loading model {formatModelRef(status.model)}</span>
          <progress
            max={status.totalBytes || 1}
            value={status.loadedBytes}
            aria-label="Model download"
          />
          <span>{Math.round((100 * status.loadedBytes) / (status.totalBytes || 1))}%</span>
        </>
      )}
      {status.kind === 'ready' && (
        <>
          <span>
            Model <b data-testid="model-version">{formatModelRef(status.model)}</b>
          </span>
          <span>
            on <b data-testid="backend">{status.backend}</b>
          </span>
          <span className="muted">{busy ? 'working…' : 'ready'}</span>
        </>
      )}
      {status.kind === 'error' && (
        <>
          <span className="error-text" data-testid="model-error" data-code={status.error.code}>
            {status.error.message}
            {status.error.detail && <> ({status.error.detail})</>}
          </span>
          <span className="muted">It is tried again when the network returns.</span>
          <button type="button" className="link" onClick={() => void startModel()}>
            Try again now
          </button>
        </>
      )}
    </div>
  );
}
