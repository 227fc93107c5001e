import { useEffect, useId, useRef, useState } from 'react';
import type { AppError } from '../../core/errors';
import type { ModelEntry } from '../../core/model-manifest';
import {
  makeAvailableOffline,
  modelUses,
  packStatus,
  removePack,
  requestPersistence,
  storageEstimate,
  type ModelUse,
  type PackStatus,
} from '../inference/model-packs';
import { useModelStore } from '../inference/model-store';
import { persistenceAnswered, usePwaStore } from '../pwa/pwa-store';
import { megabytes } from '../ui/format';
import { modelChoice, plural, withArticle } from './model-choice';
import { useSettingsStore } from './settings-store';

type Busy = { id: string; loaded: number; total: number } | null;

/**
 * Which models work offline, how much room they take, and the buttons to change that.
 * Every model of the manifest is listed; those the model setting uses are marked, offered
 * together, and removed only after the user confirms.
 */
export function OfflinePacks() {
  const manifest = useModelStore((s) => s.manifest);
  const modelId = useSettingsStore((s) => s.modelId);
  const persisted = usePwaStore((s) => s.persisted);
  const [statuses, setStatuses] = useState<Record<string, PackStatus>>({});
  const [storage, setStorage] = useState<{ usage: number; quota: number } | null>(null);
  const [busy, setBusy] = useState<Busy>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [confirming, setConfirming] = useState<{ entry: ModelEntry; use: ModelUse } | null>(null);

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

  if (manifest === null) return null;
  const uses = modelUses(modelChoice(manifest, modelId));
  const missingInUse = manifest.models.filter(
    (m) => uses.has(m.id) && statuses[m.id]?.complete === false,
  );

  /** One model after the other, each with its progress; stops at the first failure. */
  const download = async (entries: ModelEntry[]) => {
    setError(null);
    for (const entry of entries) {
      setBusy({ id: entry.id, loaded: 0, total: entry.totalBytes });
      if (usePwaStore.getState().persisted === null)
        persistenceAnswered(await requestPersistence());
      const result = await makeAvailableOffline(entry, (loaded, total) =>
        setBusy({ id: entry.id, loaded, total }),
      );
      if (!result.ok) {
        setError(result.error);
        break;
      }
    }
    setBusy(null);
    refresh();
  };

  const remove = async (entry: ModelEntry) => {
    setConfirming(null);
    await removePack(entry);
    refresh();
  };

  const askToRemove = (entry: ModelEntry) => {
    const use = uses.get(entry.id);
    if (use === undefined) void remove(entry);
    else setConfirming({ entry, use });
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
      {missingInUse.length > 0 && (
        <p className="small row wrap" data-testid="offline-in-use">
          <span>
            {missingInUse.length === 1
              ? `${missingInUse[0]!.name} is in use but needs the network.`
              : `${missingInUse.length} models in use need the network.`}{' '}
            Download {missingInUse.length === 1 ? 'it' : 'them'} to identify photos offline as you
            do now.
          </span>
          <button
            type="button"
            className="button"
            disabled={busy !== null}
            onClick={() => void download(missingInUse)}
          >
            Make all in use available offline
          </button>
        </p>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error.message}
        </p>
      )}
      <ul className="packs">
        {manifest.models.map((m) => {
          const status = statuses[m.id];
          const use = uses.get(m.id);
          const downloading = busy?.id === m.id;
          return (
            <li
              key={m.id}
              data-testid="offline-pack"
              data-model={m.id}
              data-offline={status?.complete ? 'yes' : 'no'}
              data-in-use={use ? 'yes' : 'no'}
            >
              <span>
                <b>{m.name}</b> <span className="muted">{megabytes(m.totalBytes)}</span>{' '}
                {status?.complete ? (
                  <span className="badge">Available offline</span>
                ) : (
                  <span className="muted">
                    Needs the network
                    {status && status.cachedBytes > 0 && ` (${megabytes(status.cachedBytes)} kept)`}
                  </span>
                )}
                {use && (
                  <>
                    <br />
                    <span className="small">In use: {inUseLabel(use)}</span>
                  </>
                )}
              </span>
              {downloading ? (
                <progress
                  max={busy.total}
                  value={busy.loaded}
                  aria-label={`Downloading ${m.name}`}
                />
              ) : status?.complete ? (
                <button
                  type="button"
                  className="button"
                  aria-haspopup={use ? 'dialog' : undefined}
                  disabled={busy !== null}
                  onClick={() => askToRemove(m)}
                >
                  Remove
                </button>
              ) : (
                <button
                  type="button"
                  className="button"
                  onClick={() => void download([m])}
                  disabled={busy !== null}
                >
                  Make available offline
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {confirming && (
        <RemoveConfirm
          entry={confirming.entry}
          use={confirming.use}
          onCancel={() => setConfirming(null)}
          onRemove={() => void remove(confirming.entry)}
        />
      )}
    </fieldset>
  );
}

/** What a model does under the setting, in a few words beside its name. */
export function inUseLabel(use: ModelUse): string {
  switch (use.kind) {
    case 'auto-general':
      return 'Auto looks at every photo with it first.';
    case 'auto-specialist':
      return `Auto names ${plural(use.group)} with it.`;
    case 'chosen':
      return 'chosen in Settings.';
    case 'checks-group':
      return `checks for ${use.specialist.name} that a photo shows ${withArticle(use.group)}.`;
  }
}

/** What removing a model in use changes, for the confirmation. */
export function removalConsequence(entry: ModelEntry, use: ModelUse): string {
  const again = `The next time it is needed, it will be downloaded again (${megabytes(entry.totalBytes)}), which needs the network.`;
  switch (use.kind) {
    case 'auto-general':
      return `Auto mode looks at every photo with it first. ${again}`;
    case 'auto-specialist':
      return `Auto mode names ${plural(use.group)} with it. ${again} Offline until then, photos of ${plural(use.group)} get only the general model’s answer.`;
    case 'chosen':
      return `It is the model chosen in Settings. ${again}`;
    case 'checks-group':
      return `${use.specialist.name}, chosen in Settings, needs it to check that a photo shows ${withArticle(use.group)}. ${again}`;
  }
}

interface RemoveConfirmProps {
  entry: ModelEntry;
  use: ModelUse;
  onCancel(): void;
  onRemove(): void;
}

/**
 * A modal confirmation: Cancel comes first and has the focus, so Enter or Escape keeps the
 * model; only the Remove button removes it.
 */
export function RemoveConfirm({ entry, use, onCancel, onRemove }: RemoveConfirmProps) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const textId = useId();
  useEffect(() => {
    const dialog = dialogRef.current;
    if (dialog !== null && !dialog.open) dialog.showModal();
    cancelRef.current?.focus();
  }, []);
  return (
    <dialog
      ref={dialogRef}
      className="history-confirm"
      aria-labelledby={titleId}
      aria-describedby={textId}
      data-testid="remove-model-dialog"
      // Escape closes the dialog without a choice: that keeps the model.
      onClose={onCancel}
    >
      <h3 id={titleId}>Remove {entry.name} from this device?</h3>
      <p id={textId}>{removalConsequence(entry, use)}</p>
      <div className="row wrap">
        <button ref={cancelRef} type="button" className="button primary" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" className="button danger" onClick={onRemove}>
          Remove
        </button>
      </div>
    </dialog>
  );
}
