import { memo, useDeferredValue, useEffect, useId, useMemo, useState } from 'react';
import { ERROR_MESSAGES, isErrorCode, WARNING_MESSAGES } from '../../core/errors';
import { formatModelRef } from '../../core/model-ref';
import { VerdictPanel } from '../feedback/VerdictPanel';
import { AnswerPath, AnswerTitle } from '../ui/AnswerTitle';
import { BlobImage } from '../ui/BlobImage';
import { percent, PredictionList } from '../ui/PredictionList';
import './batch.css';
import { cancelBatch, exportBatch } from './batch-flow';
import {
  batchItemState,
  batchVerdictGiven,
  countAnswered,
  useBatchStore,
  type BatchClassification,
  type BatchItem,
  type BatchOutcome,
  type BatchRun,
} from './batch-store';

type SortKey = 'order' | 'confidence-desc' | 'confidence-asc' | 'name';
type FilterKey = 'all' | 'animal' | 'not-sure' | 'no-animal' | 'error';

const SORTS: Record<SortKey, (a: BatchItem, b: BatchItem) => number> = {
  order: (a, b) => a.order - b.order,
  'confidence-desc': (a, b) => (bestProbability(b) ?? -1) - (bestProbability(a) ?? -1),
  'confidence-asc': (a, b) => (bestProbability(a) ?? 2) - (bestProbability(b) ?? 2),
  name: (a, b) => (answerName(a) ?? '\uffff').localeCompare(answerName(b) ?? '\uffff'),
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

/** The item's best candidate's probability, or null while it waits or when it failed. */
function bestProbability(item: BatchItem): number | null {
  return item.outcome?.kind === 'identified'
    ? (item.outcome.result.answer.top[0]?.probability ?? null)
    : null;
}

/** What the card is named by: the species or group the answer names, else the best candidate. */
function answerName(item: BatchItem): string | null {
  if (item.outcome?.kind !== 'identified') return null;
  const { summary, answer } = item.outcome.result;
  return summary?.name ?? answer.top[0]?.name ?? null;
}

/** The answer's own probability, shown only when it names something. */
function namedProbability(result: BatchClassification): number | null {
  const { summary, answer } = result;
  if (summary !== undefined) {
    return summary.kind === 'species' || summary.kind === 'group' ? summary.probability : null;
  }
  return answer.kind === 'animal' ? (answer.top[0]?.probability ?? null) : null;
}

function BatchAnswerDetails({
  item,
  outcome,
}: {
  item: BatchItem;
  outcome: Extract<BatchOutcome, { kind: 'identified' }>;
}) {
  const { result } = outcome;
  const { answer, summary, routing, warnings } = result;
  const via = routing?.via ?? null;
  const missing = routing?.missing ?? null;
  return (
    <>
      <AnswerPath summary={summary} />
      <PredictionList predictions={answer.top} testId="batch-prediction" />
      {(warnings.length > 0 || missing) && (
        <ul className="warnings" data-testid="warnings">
          {warnings.map((code) => (
            <li key={code} data-code={code}>
              {WARNING_MESSAGES[code]}
            </li>
          ))}
          {missing && (
            <li data-code="SPECIALIST_MISSING">
              The {missing.group} model could not be used, so this is the general model’s answer.
            </li>
          )}
        </ul>
      )}
      <VerdictPanel
        observationId={outcome.observationId}
        model={result.model}
        answer={answer}
        answerPath={result.summary?.path}
        verdict={outcome.verdict}
        photo={item.photo}
        onVerdict={(verdict) => batchVerdictGiven(item.id, verdict)}
      />
      <p className="muted small" data-testid="batch-details">
        {result.width}×{result.height} ·{' '}
        {(result.timings.decodeMs + result.timings.inferenceMs).toFixed(0)} ms on {result.backend} ·{' '}
        <span data-testid="batch-model">{formatModelRef(result.model)}</span>
        {via && (
          <>
            {' '}
            · handed over by {formatModelRef(via.model)} ({via.group} {percent(via.probability)})
          </>
        )}
        {missing && <> · {missing.reason}</>}
      </p>
    </>
  );
}

const BatchCard = memo(function BatchCard({ item }: { item: BatchItem }) {
  const [open, setOpen] = useState(false);
  const ids = useId();
  const { outcome } = item;
  const state = batchItemState(item);
  const identified = outcome?.kind === 'identified' ? outcome : null;
  const best = identified?.result.answer.top[0];
  const named = identified ? namedProbability(identified.result) : null;
  const via = identified?.result.routing?.via ?? null;
  return (
    <li
      className={`batch-item ${state}${open ? ' open' : ''}`}
      data-testid="batch-item"
      data-file={item.name}
      data-state={state}
      data-status={identified?.result.answer.kind ?? (state === 'error' ? 'error' : undefined)}
      data-label={best?.label}
      data-probability={best?.probability.toFixed(6)}
      data-verdict={identified?.verdict?.kind}
      data-model={identified ? formatModelRef(identified.result.model) : undefined}
      data-via={via ? formatModelRef(via.model) : undefined}
    >
      {item.thumbnail ? (
        <BlobImage blob={item.thumbnail} alt="" loading="lazy" width={80} height={80} />
      ) : (
        <span className="thumb-placeholder" aria-hidden="true" />
      )}
      {identified && (
        <AnswerTitle
          answer={identified.result.answer}
          summary={identified.result.summary}
          routing={identified.result.routing}
          as="h3"
          id={`${ids}-title`}
        />
      )}
      {named !== null && <span className="muted">{percent(named)}</span>}
      <span className="file">{item.name}</span>
      {outcome?.kind === 'failed' && (
        <span className="error-text">
          {isErrorCode(outcome.errorCode) ? ERROR_MESSAGES[outcome.errorCode] : outcome.errorCode}
        </span>
      )}
      {identified && (
        <>
          <div>
            <button
              type="button"
              className="link"
              aria-expanded={open}
              aria-controls={`${ids}-answer`}
              aria-describedby={`${ids}-title`}
              onClick={() => setOpen((wasOpen) => !wasOpen)}
            >
              Full answer <span aria-hidden="true">{open ? '▴' : '▾'}</span>
            </button>
          </div>
          {/* Always in the page, so that the button's aria-controls names an element. */}
          <div id={`${ids}-answer`} className="batch-answer" hidden={!open}>
            {open && <BatchAnswerDetails item={item} outcome={identified} />}
          </div>
        </>
      )}
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
      const result = item.outcome?.kind === 'identified' ? item.outcome.result : null;
      if (filter !== 'all' && filter !== 'error' && result?.answer.kind !== filter) return false;
      if (query === '') return true;
      const best = result?.answer.top[0];
      return [item.name, answerName(item), best?.name, best?.label, best?.scientificName].some(
        (text) => typeof text === 'string' && text.toLowerCase().includes(query),
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
