import { megabytes } from '../ui/format';
import { withArticle } from '../ui/answer-text';
import { useModelStore } from './model-store';

/**
 * A specialist being downloaded for the photo on screen (Auto mode fetches the birds or
 * insects model the first time a photo needs it): its name and how far along it is.
 */
export function SpecialistProgress() {
  // Only while the worker is working for the page: a download that a crash or a new load
  // cut short never posts its end, and must not show for ever.
  const downloading = useModelStore((s) =>
    s.activeCalls > 0
      ? Object.values(s.specialists).find((status) => status.state === 'downloading')
      : undefined,
  );
  const name = useModelStore(
    (s) => s.manifest?.models.find((m) => m.id === downloading?.modelId)?.name,
  );
  if (downloading?.state !== 'downloading') return null;
  const { loadedBytes, totalBytes } = downloading;
  return (
    <p
      className="muted"
      role="status"
      data-testid="specialist-progress"
      data-model={downloading.modelId}
    >
      This looks like {withArticle(downloading.group)}: downloading the{' '}
      {name ?? downloading.modelId} model, once ({megabytes(loadedBytes)} of {megabytes(totalBytes)}
      )…{' '}
      <progress
        max={totalBytes}
        value={loadedBytes}
        aria-label="Download of the specialist model"
      />
    </p>
  );
}
