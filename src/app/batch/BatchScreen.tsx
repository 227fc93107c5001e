import { memo, useDeferredValue, useEffect, useMemo, useState } from 'react';
import { ERROR_MESSAGES, isErrorCode } from '../../core/errors';
import type { BatchResultRow } from '../../core/results-export';
import { BlobImage } from '../ui/BlobImage';
import { cancelBatch, exportBatch } from './batch-flow';
import {
  batchItemState,
  countAnswered,
  useBatchStore,
  type BatchItem,
  type BatchRun,
} from './batch-store';

type SortKey = 'order' | 'confidence-desc' | 'confidence-asc' | 'name';
type FilterKey = 'all' | 'animal' | 'not-sure' | 'no-animal' | 'error';

const SORTS: Record<SortKey, (a: BatchItem, b: BatchItem) => number> = {
  order: (a, b) => a.order - b.order,
  'confidence-desc': (a, b) => (b.row?.probability ?? -1) - (a.row?.probability ?? -1),
  'confidence-asc': (a, b) => (a.row?.probability ?? 2) - (b.row?.probability ?? 2),
  name: (a, b) => (a.row?.name ?? '\uffff').localeCompare(b.row?.name ?? '\uffff'),
};

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** Re-renders once a second while running, so "time left" moves even between results. */
function useNow(active: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function ProgressLine({ run, done, total }: { run: BatchRun; done: number; total: number }) {
  const now = useNow(run.kind === 'running');
  if (run.kind === 'idle') return null;
  const elapsed =
    (run.kind === 'running' ? Math.max(now, run.startedAt) : run.finishedAt) - run.startedAt;
  const left = done > 0 ? (elapsed / done) * (total - done) : null;
  return (
    <div className="batch-progress">
      <progress max={total} value={done} aria-label="Batch progress" data-testid="batch-progress" />
      <span data-testid="batch-count">
        {done} of {total}
      </span>
      {run.kind === 'running' && left !== null && <span>about {formatDuration(left)} left</span>}
      {run.kind === 'finished' && (
        <span>
          {run.cancelled ? 'Cancelled' : 'Finished'} in {formatDuration(elapsed)}
        </span>
      )}
    </div>
  );
}

function BatchVerdict({ row }: { row: BatchResultRow }) {
  const percent = <span className="muted">{((row.probability ?? 0) * 100).toFixed(0)}%</span>;
  if (row.status === 'animal')
    return (
      <span>
        {row.name} {percent}
      </span>
    );
  if (row.status === 'not-sure')
    return (
      <span>
        Not sure ({row.name}?) {percent}
      </span>
    );
  return <span>No animal recognised</span>;
}

const BatchCard = memo(function BatchCard({ item }: { item: BatchItem }) {
  const row = item.row;
  const state = batchItemState(item);
  const errorMessage =
    row?.errorCode && isErrorCode(row.errorCode) ? ERROR_MESSAGES[row.errorCode] : null;
  return (
    <li
      className={`batch-item ${state}`}
      data-testid="batch-item"
      data-file={item.name}
      data-state={state}
      data-status={row?.status}
      data-label={row?.label ?? undefined}
      data-probability={row?.probability?.toFixed(6)}
    >
      {item.thumbnail ? (
        <BlobImage blob={item.thumbnail} alt="" loading="lazy" width={80} height={80} />
      ) : (
        <span className="thumb-placeholder" aria-hidden="true" />
      )}
      <span className="file">{item.name}</span>
      {state === 'error' && <span className="error-text">{errorMessage ?? row?.errorCode}</span>}
      {state === 'done' && row && <BatchVerdict row={row} />}
    </li>
  );
});

export function BatchScreen() {
  const { run, items } = useBatchStore();
  const [sort, setSort] = useState<SortKey>('order');
  const [filter, setFilter] = useState<FilterKey>('all');
  const [text, setText] = useState('');
  const query = useDeferredValue(text.trim().toLowerCase());
  const done = useMemo(() => countAnswered(items), [items]);

  // Photos still waiting are counted, not drawn: 500 empty cards at the start of a batch
  // would block the page for the sake of placeholders.
  const shown = useMemo(() => {
    const matching = items.filter((item) => {
      const state = batchItemState(item);
      if (state === 'queued') return false;
      if (filter === 'error' && state !== 'error') return false;
      if (filter !== 'all' && filter !== 'error' && item.row?.status !== filter) return false;
      if (query === '') return true;
      return (
        item.name.toLowerCase().includes(query) ||
        (item.row?.name ?? '').toLowerCase().includes(query) ||
        (item.row?.label ?? '').toLowerCase().includes(query)
      );
    });
    return matching.sort(SORTS[sort]);
  }, [items, sort, filter, query]);

  if (run.kind === 'idle') {
    return (
      <p className="hint">
        Choose several photos, or drop a folder anywhere on the page, to identify them all. Results
        can be exported as CSV or JSON.
      </p>
    );
  }
  const cancelled = run.kind === 'finished' && run.cancelled;
  return (
    <section className="batch" aria-labelledby="batch-heading">
      <h2 id="batch-heading">Batch of {items.length} photos</h2>
      <ProgressLine run={run} done={done} total={items.length} />
      <div className="row wrap">
        {run.kind === 'running' && (
          <button type="button" className="button" onClick={cancelBatch}>
            Cancel
          </button>
        )}
        <button
          type="button"
          className="button"
          onClick={() => exportBatch('csv')}
          disabled={done === 0}
        >
          Export CSV
        </button>
        <button
          type="button"
          className="button"
          onClick={() => exportBatch('json')}
          disabled={done === 0}
        >
          Export JSON
        </button>
        <label>
          Sort{' '}
          <select value={sort} onChange={(event) => setSort(event.target.value as SortKey)}>
            <option value="order">Original order</option>
            <option value="confidence-desc">Most confident first</option>
            <option value="confidence-asc">Least confident first</option>
            <option value="name">Species name</option>
          </select>
        </label>
        <label>
          Show{' '}
          <select value={filter} onChange={(event) => setFilter(event.target.value as FilterKey)}>
            <option value="all">All</option>
            <option value="animal">Identified</option>
            <option value="not-sure">Not sure</option>
            <option value="no-animal">No animal</option>
            <option value="error">Errors</option>
          </select>
        </label>
        <label>
          Search{' '}
          <input type="search" value={text} onChange={(event) => setText(event.target.value)} />
        </label>
      </div>
      <ul className="batch-grid">
        {shown.map((item) => (
          <BatchCard key={item.id} item={item} />
        ))}
      </ul>
      {items.length > done && (
        <p className="muted" data-testid="batch-waiting">
          {items.length - done} {cancelled ? 'not identified (cancelled)' : 'waiting…'}
        </p>
      )}
    </section>
  );
}
