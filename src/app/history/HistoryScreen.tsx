import { memo, useEffect, useId, useMemo, useRef, useState } from 'react';
import {
  DEFAULT_HISTORY_LIMITS,
  isFilterActive,
  type HistoryShow,
} from '../../core/history-policy';
import { useSettingsStore } from '../settings/settings-store';
import { BlobImage } from '../ui/BlobImage';
import { percent } from '../ui/PredictionList';
import type { BatchInfo } from './history-db';
import { groupByBatch, type HistoryRecord } from './history-record';
import './history-batch.css';
import { disableCoarseLocation, enableCoarseLocation } from './location';
import {
  closeHistory,
  deleteAllHistory,
  deleteBatch,
  exportHistory,
  loadMoreHistory,
  openHistory,
  requestThumbnail,
  selectObservation,
  setHistoryFilter,
  useHistoryList,
  useHistoryStore,
} from './history-store';
import {
  HISTORY_HEADING_ID,
  HistoryDetails,
  ObservationTitle,
  formatObservationTime,
} from './HistoryDetails';

/** Typing pauses this long before the history is searched again. */
const SEARCH_DELAY_MS = 250;

const count = (n: number) => n.toLocaleString();
const noun = (n: number) => (n === 1 ? 'observation' : 'observations');
const observations = (n: number) => `${count(n)} ${noun(n)}`;
const photos = (n: number) => `${count(n)} ${n === 1 ? 'photo' : 'photos'}`;
const size = (bytes: number) =>
  bytes < 1_000_000
    ? `${Math.ceil(bytes / 1000).toLocaleString()} kB`
    : `${(bytes / 1_000_000).toFixed(1)} MB`;

const HistoryEntry = memo(function HistoryEntry({
  record,
  thumbnail,
}: {
  record: HistoryRecord;
  /** Undefined until read. */
  thumbnail: Blob | null | undefined;
}) {
  useEffect(() => {
    if (thumbnail === undefined) requestThumbnail(record.id);
  }, [record.id, thumbnail]);
  const best = record.top[0];
  return (
    <li
      className="history-item"
      data-testid="history-item"
      data-id={record.id}
      data-label={best?.label ?? ''}
      data-file={record.fileName}
      data-kind={record.answerKind}
    >
      <button
        type="button"
        className="history-entry"
        aria-haspopup="dialog"
        onClick={() => selectObservation(record.id)}
      >
        {thumbnail ? (
          <BlobImage blob={thumbnail} alt="" width={64} height={64} />
        ) : (
          <span className="thumb-placeholder" aria-hidden="true" />
        )}
        <span className="history-entry-text">
          <b>
            <ObservationTitle record={record} as="span" />
          </b>
          {best && record.answerKind === 'animal' && (
            <span className="muted"> {percent(best.probability)}</span>
          )}
          <br />
          <span className="small muted">
            {formatObservationTime(record.createdAt)} · {record.fileName || 'unnamed photo'}
          </span>
        </span>
      </button>
    </li>
  );
});

/** "12 identified, 3 not sure, 1 no animal" over the records shown. */
function tally(records: readonly HistoryRecord[]): string {
  const kinds = [
    ['animal', 'identified'],
    ['not-sure', 'not sure'],
    ['no-animal', 'no animal'],
  ] as const;
  return kinds
    .map(([kind, text]) => [records.filter((r) => r.answerKind === kind).length, text] as const)
    .filter(([n]) => n > 0)
    .map(([n, text]) => `${count(n)} ${text}`)
    .join(', ');
}

/** Asks first, as "Delete all" does: a batch can be hundreds of observations. */
function RemoveBatch({
  batchId,
  total,
  describedBy,
}: {
  batchId: string;
  total: number;
  describedBy: string;
}) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const headingId = useId();
  const [error, setError] = useState<string | null>(null);
  const remove = () => {
    dialogRef.current?.close();
    setError(null);
    deleteBatch(batchId).then(
      () => {
        // The group and the button that had focus are gone: land on the list heading.
        if (document.activeElement === null || document.activeElement === document.body) {
          document.getElementById(HISTORY_HEADING_ID)?.focus();
        }
      },
      (reason: unknown) => setError(`The batch could not be removed (${String(reason)}).`),
    );
  };
  return (
    <>
      <button
        type="button"
        className="button small danger"
        aria-haspopup="dialog"
        aria-describedby={describedBy}
        onClick={() => dialogRef.current?.showModal()}
      >
        Remove batch…
      </button>
      {error && (
        <p className="error-text small" role="alert">
          {error}
        </p>
      )}
      <dialog ref={dialogRef} aria-labelledby={headingId} className="history-confirm">
        <h3 id={headingId}>Remove this batch?</h3>
        <p>
          All {observations(total)} of this batch and their thumbnails are removed from this device.
          Corrections you already gave are still sent. This cannot be undone; export first to keep a
          copy.
        </p>
        <form method="dialog" className="row wrap">
          <button type="submit" className="button primary">
            Keep batch
          </button>
          <button type="button" className="button danger" onClick={remove}>
            Remove batch
          </button>
        </form>
      </dialog>
    </>
  );
}

/**
 * The photos of one batch as one entry: how many, when, what they were found to be; it
 * opens to the photos, each as a single entry is.
 */
const HistoryBatch = memo(function HistoryBatch({
  batchId,
  records,
  info,
  thumbnails,
}: {
  batchId: string;
  /** The batch's records in the list, newest first (a filter may show only some). */
  records: HistoryRecord[];
  info: BatchInfo | undefined;
  thumbnails: Record<string, Blob | null>;
}) {
  const [open, setOpen] = useState(false);
  const ids = useId();
  const newest = records[0]!;
  const thumbnail = thumbnails[newest.id];
  useEffect(() => {
    if (thumbnail === undefined) requestThumbnail(newest.id);
  }, [newest.id, thumbnail]);
  const total = Math.max(info?.count ?? 0, records.length);
  const startedAt = info?.firstAt ?? Math.min(...records.map((record) => record.createdAt));
  return (
    <li
      className="history-batch"
      data-testid="history-batch"
      data-batch-id={batchId}
      data-count={total}
      data-shown={records.length}
    >
      <div className="history-batch-head">
        <button
          type="button"
          className="history-entry"
          aria-expanded={open}
          aria-controls={`${ids}-photos`}
          onClick={() => setOpen((wasOpen) => !wasOpen)}
        >
          {thumbnail ? (
            <BlobImage blob={thumbnail} alt="" width={64} height={64} />
          ) : (
            <span className="thumb-placeholder" aria-hidden="true" />
          )}
          <span className="history-entry-text" id={`${ids}-title`}>
            <b>Batch of {photos(total)}</b>
            {records.length < total && (
              <span className="muted"> ({count(records.length)} shown)</span>
            )}{' '}
            <span aria-hidden="true">{open ? '▴' : '▾'}</span>
            <br />
            <span className="small muted">
              {formatObservationTime(startedAt)} · {tally(records)}
            </span>
          </span>
        </button>
        <RemoveBatch batchId={batchId} total={total} describedBy={`${ids}-title`} />
      </div>
      {/* Always in the page, so that the button's aria-controls names an element. */}
      <ul id={`${ids}-photos`} className="history-list history-batch-photos" hidden={!open}>
        {open &&
          records.map((record) => (
            <HistoryEntry key={record.id} record={record} thumbnail={thumbnails[record.id]} />
          ))}
      </ul>
    </li>
  );
});

function SearchAndShow() {
  const filter = useHistoryStore((s) => s.filter);
  const [text, setText] = useState(filter.text);
  const searchId = useId();
  const showId = useId();

  useEffect(() => {
    if (text === useHistoryStore.getState().filter.text) return;
    const timer = setTimeout(() => setHistoryFilter({ text }), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);
  // Leaving the screen within the delay still applies what was typed last.
  const typed = useRef(text);
  useEffect(
    () => () => {
      if (typed.current !== useHistoryStore.getState().filter.text) {
        setHistoryFilter({ text: typed.current });
      }
    },
    [],
  );

  return (
    <div className="row wrap history-filters">
      <label htmlFor={searchId}>Search</label>
      <input
        id={searchId}
        type="search"
        placeholder="Species or file name"
        value={text}
        onChange={(event) => {
          typed.current = event.target.value;
          setText(event.target.value);
        }}
      />
      <label htmlFor={showId}>Show</label>
      <select
        id={showId}
        value={filter.show}
        onChange={(event) => setHistoryFilter({ show: event.target.value as HistoryShow })}
      >
        <option value="all">All</option>
        <optgroup label="Result">
          <option value="animal">Identified</option>
          <option value="not-sure">Not sure</option>
          <option value="no-animal">No animal</option>
        </optgroup>
        <optgroup label="Your verdict">
          <option value="correct">Confirmed correct</option>
          <option value="corrected">Corrected</option>
          <option value="not-an-animal">Not an animal</option>
          <option value="unknown-species">Unknown species</option>
          <option value="no-verdict">No verdict yet</option>
        </optgroup>
      </select>
    </div>
  );
}

function StorageLine() {
  const stats = useHistoryStore((s) => s.stats);
  const unreadable = useHistoryStore((s) => s.unreadable);
  if (stats === null) return null;
  const { maxEntries, maxThumbnails } = DEFAULT_HISTORY_LIMITS;
  return (
    <p className="small muted" data-testid="history-storage">
      {`${observations(stats.entries)} on this device, ${count(stats.thumbnails)} with a ` +
        `thumbnail (${size(stats.thumbnailBytes)}). The newest ${count(maxThumbnails)} keep ` +
        `their thumbnail and at most ${count(maxEntries)} are kept; the oldest go first.`}
      {unreadable > 0 && ` ${count(unreadable)} damaged entries could not be read.`}
    </p>
  );
}

function LocationSetting() {
  const on = useSettingsStore((s) => s.saveCoarseLocation);
  const [state, setState] = useState<'idle' | 'asking' | 'denied' | 'unavailable'>('idle');
  const hintId = useId();
  return (
    <div className="history-location-setting">
      <label className="choice">
        <input
          type="checkbox"
          checked={on || state === 'asking'}
          disabled={state === 'asking'}
          aria-describedby={hintId}
          onChange={(event) => {
            if (!event.target.checked) {
              disableCoarseLocation();
              setState('idle');
              return;
            }
            setState('asking');
            void enableCoarseLocation().then((answer) =>
              setState(answer === 'granted' ? 'idle' : answer),
            );
          }}
        />
        <span>Save a coarse location with observations</span>
      </label>
      <p id={hintId} className="small muted">
        {state === 'asking' && 'Waiting for your answer to the location permission…'}
        {state === 'denied' &&
          'Location permission was refused, so no location is saved. It can be allowed in the browser’s site settings.'}
        {state === 'unavailable' && 'This browser cannot give a location.'}
        {state === 'idle' &&
          'Rounded to 0.1° (about 11 km) before it is stored; only on this device; never waits for a fix.'}
      </p>
    </div>
  );
}

function DeleteAll({ disabled }: { disabled: boolean }) {
  const dialogRef = useRef<HTMLDialogElement>(null);
  const entries = useHistoryStore((s) => s.stats?.entries ?? null);
  const headingId = useId();
  return (
    <>
      <button
        type="button"
        className="button danger"
        disabled={disabled}
        aria-haspopup="dialog"
        onClick={() => dialogRef.current?.showModal()}
      >
        Delete all…
      </button>
      <dialog ref={dialogRef} aria-labelledby={headingId} className="history-confirm">
        <h3 id={headingId}>Delete the whole history?</h3>
        <p>
          {entries === null ? 'Every observation' : `All ${observations(entries)}`} and their
          thumbnails are removed from this device. This cannot be undone; export first to keep a
          copy.
        </p>
        <form method="dialog" className="row wrap">
          <button type="submit" className="button primary">
            Keep history
          </button>
          <button
            type="button"
            className="button danger"
            onClick={() => {
              dialogRef.current?.close();
              void deleteAllHistory();
            }}
          >
            Delete all
          </button>
        </form>
      </dialog>
    </>
  );
}

function ExportButtons({ disabled }: { disabled: boolean }) {
  const [status, setStatus] = useState('');
  const run = (format: 'csv' | 'json') => {
    setStatus('Preparing the export…');
    exportHistory(format).then(
      (n) => setStatus(`Exported ${count(n)} observations as ${format.toUpperCase()}.`),
      () => setStatus('The export failed.'),
    );
  };
  return (
    <>
      <button type="button" className="button" disabled={disabled} onClick={() => run('csv')}>
        Export CSV
      </button>
      <button type="button" className="button" disabled={disabled} onClick={() => run('json')}>
        Export JSON
      </button>
      <span className="small muted" role="status">
        {status}
      </span>
    </>
  );
}

/**
 * Every identification made on this device, newest first, a page at a time: thumbnails
 * are read only for the entries on screen and released when the screen closes.
 */
export function HistoryScreen() {
  useEffect(() => {
    openHistory();
    return closeHistory;
  }, []);
  const { load, items, thumbnails, batches, filter, total } = useHistoryList();
  const rows = useMemo(() => groupByBatch(items), [items]);
  const filtered = isFilterActive(filter);
  const empty = total === 0;

  return (
    <section className="history" aria-labelledby={HISTORY_HEADING_ID}>
      <h2 id={HISTORY_HEADING_ID} tabIndex={-1}>
        History
      </h2>
      <p className="hint">
        Every photo identified here is kept on this device, with a small thumbnail and the top five
        candidates; the photos of a batch are kept together. The history itself is never sent. Only
        a correction you make is sent, when there is a network: the model, the labels, your verdict
        and the day; the photo only if you tick the box.
      </p>
      <StorageLine />
      <SearchAndShow />
      <div className="row wrap">
        <ExportButtons disabled={empty} />
        <DeleteAll disabled={empty} />
      </div>
      <LocationSetting />

      <h3 className="visually-hidden">Observations</h3>
      <p className="small muted" role="status" data-testid="history-count">
        {load.kind === 'loading' && 'Loading…'}
        {load.kind === 'error' && `The history could not be read (${load.message}).`}
        {(load.kind === 'ready' || load.kind === 'loading-more') &&
          (items.length === 0
            ? filtered
              ? 'No observation matches.'
              : 'No observations yet. Identify a photo and it appears here.'
            : filtered
              ? `Showing ${count(items.length)} matching ${noun(items.length)}, newest first.`
              : `Showing ${count(items.length)} of ${observations(total ?? items.length)}, newest first.`)}
      </p>
      <ul className="history-list">
        {rows.map((row) =>
          row.kind === 'single' ? (
            <HistoryEntry
              key={row.record.id}
              record={row.record}
              thumbnail={thumbnails[row.record.id]}
            />
          ) : (
            <HistoryBatch
              key={row.batchId}
              batchId={row.batchId}
              records={row.records}
              info={batches[row.batchId]}
              thumbnails={thumbnails}
            />
          ),
        )}
      </ul>
      {(load.kind === 'loading-more' || (load.kind === 'ready' && !load.complete)) && (
        <button
          type="button"
          className="button"
          disabled={load.kind === 'loading-more'}
          onClick={() => void loadMoreHistory()}
        >
          {load.kind === 'loading-more' ? 'Loading…' : 'Show more'}
        </button>
      )}
      <HistoryDetails />
    </section>
  );
}
