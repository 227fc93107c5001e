import { useEffect, useId, useRef } from 'react';
import type { ObservationRecord, Verdict } from '../../core/history-policy';
import type { Answer } from '../../core/answer';
import { formatModelRef } from '../../core/model-ref';
import { VerdictPanel } from '../feedback/VerdictPanel';
import { AnswerPath, AnswerTitle } from '../ui/AnswerTitle';
import { BlobImage } from '../ui/BlobImage';
import { percent, PredictionList } from '../ui/PredictionList';
import type { HistoryRecord } from './history-record';
import { deleteObservation, selectObservation, useHistoryStore } from './history-store';

export const HISTORY_HEADING_ID = 'history-heading';

const KIND_TEXT: Record<ObservationRecord['answerKind'], string> = {
  animal: 'Identified',
  'not-sure': 'Not sure',
  'no-animal': 'No animal recognised',
};

const VERDICT_TEXT: Record<Verdict['kind'], string> = {
  correct: 'Confirmed correct',
  corrected: 'Corrected',
  'not-an-animal': 'Not an animal',
  'unknown-species': 'A species the model does not know',
};

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatObservationTime(createdAt: number): string {
  return createdAt > 0 ? timeFormat.format(createdAt) : 'Time unknown';
}

export function observationTitle(record: ObservationRecord): string {
  const best = record.top[0];
  if (record.answerKind === 'animal' && best) return best.name;
  if (record.answerKind === 'not-sure') return best ? `Not sure (${best.name}?)` : 'Not sure';
  return 'No animal';
}

/** The stored answer in the shape the shared answer components read. */
function answerOf(record: ObservationRecord): Answer {
  const top = record.top.map((p, index) => ({ ...p, index }));
  return record.answerKind === 'no-animal'
    ? { kind: 'no-animal', top, nonAnimalProbability: 0 }
    : { kind: record.answerKind, top };
}

/**
 * An observation's headline: named as the result panel and batch cards name it when its
 * answer was kept; as before for an older record, which has only its candidates.
 */
export function ObservationTitle({
  record,
  as,
  id,
}: {
  record: HistoryRecord;
  as: 'h3' | 'span';
  id?: string;
}) {
  if (record.summary === null) {
    const Tag = as;
    return <Tag id={id}>{observationTitle(record)}</Tag>;
  }
  return (
    <AnswerTitle
      answer={answerOf(record)}
      summary={record.summary}
      routing={record.via ? { via: record.via, outsideGroup: null, missing: null } : undefined}
      as={as}
      id={id}
    />
  );
}

function verdictText(verdict: Verdict): string {
  if (verdict.kind === 'corrected') return `${VERDICT_TEXT.corrected}: ${verdict.correctedLabel}`;
  if (verdict.kind === 'unknown-species' && verdict.freeTextName) {
    return `${VERDICT_TEXT['unknown-species']}: ${verdict.freeTextName}`;
  }
  return VERDICT_TEXT[verdict.kind];
}

/**
 * One observation in a modal dialog: the browser keeps focus inside, closes it on Escape
 * and returns focus to the entry that opened it.
 */
export function HistoryDetails() {
  const selectedId = useHistoryStore((s) => s.selectedId);
  const record = useHistoryStore((s) => s.items.find((item) => item.id === s.selectedId) ?? null);
  const thumbnail = useHistoryStore((s) =>
    s.selectedId === null ? null : (s.thumbnails[s.selectedId] ?? null),
  );
  const dialogRef = useRef<HTMLDialogElement>(null);
  const closeRef = useRef<HTMLButtonElement>(null);
  const headingId = useId();
  const answer = record ? answerOf(record) : null;
  const batch = useHistoryStore((s) =>
    record?.batchId ? (s.batches[record.batchId] ?? null) : null,
  );

  useEffect(() => {
    const dialog = dialogRef.current;
    if (!dialog) return;
    if (record !== null && !dialog.open) {
      dialog.showModal();
      // Start on "Close", not on the first button ("Delete"): Enter must not delete.
      closeRef.current?.focus();
    }
    if (record === null && dialog.open) dialog.close();
  }, [record]);

  return (
    <dialog
      ref={dialogRef}
      className="history-details"
      aria-labelledby={headingId}
      onClose={() => {
        selectObservation(null);
        // After "Delete" the entry that opened the dialog is gone: land on the list heading.
        requestAnimationFrame(() => {
          if (document.activeElement === document.body) {
            document.getElementById(HISTORY_HEADING_ID)?.focus();
          }
        });
      }}
      data-testid="history-details"
    >
      {record && answer && (
        <>
          <ObservationTitle record={record} as="h3" id={headingId} />
          <AnswerPath summary={record.summary ?? undefined} />
          {thumbnail ? (
            <BlobImage
              className="history-details-image"
              blob={thumbnail}
              alt={`Photo: ${record.fileName}`}
            />
          ) : (
            <p className="muted small">No thumbnail kept for this observation.</p>
          )}
          <PredictionList predictions={answer.top} testId="history-prediction" />
          {/* A damaged old row may have lost its model: nothing to send a verdict about. */}
          {record.model && (
            <VerdictPanel
              observationId={record.id}
              model={record.model}
              answer={answer}
              verdict={record.verdict}
              photo={null}
              onVerdict={() => {}}
            />
          )}
          <dl className="history-facts">
            <dt>Result</dt>
            <dd>{KIND_TEXT[record.answerKind]}</dd>
            {record.verdict && (
              <>
                <dt>Your verdict</dt>
                <dd>{verdictText(record.verdict)}</dd>
              </>
            )}
            <dt>File</dt>
            <dd>{record.fileName || '—'}</dd>
            <dt>Time</dt>
            <dd>
              <time dateTime={record.createdAt > 0 ? new Date(record.createdAt).toISOString() : ''}>
                {formatObservationTime(record.createdAt)}
              </time>
            </dd>
            <dt>Model</dt>
            <dd>{record.model ? formatModelRef(record.model) : '—'}</dd>
            {record.via && (
              <>
                <dt>Handed over by</dt>
                <dd>
                  {formatModelRef(record.via.model)} ({record.via.group}{' '}
                  {percent(record.via.probability)})
                </dd>
              </>
            )}
            {record.batchId && (
              <>
                <dt>Batch</dt>
                <dd>
                  {batch
                    ? `${batch.count.toLocaleString()} ${batch.count === 1 ? 'photo' : 'photos'}, from ${formatObservationTime(batch.firstAt)}`
                    : 'Part of a batch'}
                </dd>
              </>
            )}
            <dt>Backend</dt>
            <dd>{record.backend || '—'}</dd>
            {record.location && (
              <>
                <dt>Location</dt>
                <dd data-testid="history-location">
                  {record.location.lat.toFixed(1)}°, {record.location.lon.toFixed(1)}° (to about 11
                  km)
                </dd>
              </>
            )}
          </dl>
          <div className="row wrap">
            <button
              type="button"
              className="button"
              onClick={() => {
                if (selectedId !== null) void deleteObservation(selectedId);
              }}
            >
              Delete this observation
            </button>
            <button
              ref={closeRef}
              type="button"
              className="button primary"
              onClick={() => dialogRef.current?.close()}
            >
              Close
            </button>
          </div>
        </>
      )}
    </dialog>
  );
}
