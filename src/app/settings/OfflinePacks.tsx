import { useEffect, useState } from 'react';
import type { AppError } from '../../core/errors';
import type { ModelEntry } from '../../core/model-manifest';
import {
  makeAvailableOffline,
  packStatus,
  removePack,
  requestPersistence,
  storageEstimate,
  type PackStatus,
} from '../inference/model-packs';
import { useModelStore } from '../inference/model-store';
import { persistenceAnswered, usePwaStore } from '../pwa/pwa-store';
import { megabytes } from '../ui/format';

type Busy = { id: string; loaded: number; total: number } | null;

/** Which models work offline, how much room they take, and the buttons to change that. */
export function OfflinePacks() {
  const manifest = useModelStore((s) => s.manifest);
  const persisted = usePwaStore((s) => s.persisted);
  const [statuses, setStatuses] = useState<Record<string, PackStatus>>({});
  const [storage, setStorage] = useState<{ usage: number; quota: number } | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<AppError | null>(null);

  /** Bumped after a download or removal, to read the caches again. */
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    if (manifest === null) return;
    let current = true;
    void Promise.all([
      Promise.all(manifest.models.map(async (m) => [m.id, await packStatus(m)] as const)),
      storageEstimate(),
    ]).then(([entries, estimate]) => {
      if (!current) return;
      setStatuses(Object.fromEntries(entries));
      setStorage(estimate);
    });
    return () => {
      current = false;
    };
  }, [manifest, generation]);
  const refresh = () => setGeneration((g) => g + 1);

  const download = async (entry: ModelEntry) => {
    setError(null);
    setBusy({ id: entry.id, loaded: 0, total: entry.totalBytes });
    if (persisted === null) persistenceAnswered(await requestPersistence());
    const result = await makeAvailableOffline(entry, (loaded, total) =>
      setBusy({ id: entry.id, loaded, total }),
    );
    if (!result.ok) setError(result.error);
    setBusy(null);
    refresh();
  };

  const remove = async (entry: ModelEntry) => {
    await removePack(entry);
    refresh();
  };

  return (
    <fieldset className="offline-packs">
      <legend>Models on this device</legend>
      {storage && (
        <p className="small" data-testid="storage-estimate">
          Storage used {megabytes(storage.usage)} of {megabytes(storage.quota)} available to this
          app.
        </p>
      )}
      <p className="small" data-testid="persistence">
        {persisted === null
          ? 'Storage is kept by the browser while space allows; downloading a model asks to keep it for good.'
          : persisted
            ? 'The browser agreed to keep offline models even when space runs low.'
            : 'The browser did not promise to keep offline models; it may remove them when space runs low.'}
      </p>
      {error && (
        <p className="error-text" role="alert">
          {error.message}
        </p>
      )}
      <ul className="packs">
        {manifest?.models.map((m) => {
          const status = statuses[m.id];
          const downloading = busy?.id === m.id;
          return (
            <li
              key={m.id}
              data-testid="offline-pack"
              data-model={m.id}
              data-offline={status?.complete ? 'yes' : 'no'}
            >
              <span>
                <b>{m.name}</b> <span className="muted">{megabytes(m.totalBytes)}</span>{' '}
                {status?.complete ? (
                  <span className="badge">Available offline</span>
                ) : (
                  <span className="muted">Online only</span>
                )}
              </span>
              {downloading ? (
                <progress
                  max={busy.total}
                  value={busy.loaded}
                  aria-label={`Downloading ${m.name}`}
                />
              ) : status?.complete ? (
                <button type="button" className="button" onClick={() => void remove(m)}>
                  Remove
                </button>
              ) : (
                <button
                  type="button"
                  className="button"
                  onClick={() => void download(m)}
                  disabled={busy !== null}
                >
                  Make available offline
                </button>
              )}
            </li>
          );
        })}
      </ul>
    </fieldset>
  );
}
