import { pruneNotice } from '../../core/history-policy';
import { dismissHistoryNotice, useHistoryStore } from './history-store';

/** What pruning removed, or a failed history write: shown on every screen until dismissed. */
export function HistoryNotice() {
  const notice = useHistoryStore((s) => pruneNotice(s.pruned));
  const writeError = useHistoryStore((s) => s.writeError);
  if (notice === null && writeError === null) return null;
  return (
    <div className="history-notice" role="status" data-testid="history-notice">
      {notice && <p>{notice}</p>}
      {writeError && <p className="error-text">{writeError}</p>}
      <button type="button" className="button small" onClick={dismissHistoryNotice}>
        Dismiss
      </button>
    </div>
  );
}
