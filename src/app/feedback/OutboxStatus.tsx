import { useId, useRef, useState } from 'react';
import { ERROR_MESSAGES, isErrorCode } from '../../core/errors';
import type { FeedbackRecord } from '../../core/feedback';
import type { SetAsideRecord } from '../../outbox/outbox-db';
import { retryQueueing, sendSetAsideAgain } from './feedback-service';
import { useFeedbackStore } from './feedback-store';

/** Why a record was set aside, in the words of the one error vocabulary. */
function reason(record: SetAsideRecord): string {
  if (isErrorCode(record.code)) return ERROR_MESSAGES[record.code];
  // Written by an earlier version of the app, which named the HTTP status.
  const status = /^HTTP_(\d{3})$/.exec(record.code)?.[1];
  return status ? `The server refused the request (HTTP ${status}).` : record.code;
}

function what(record: FeedbackRecord | null): string {
  if (record === null) return 'A correction this version of the app can no longer read';
  switch (record.verdict) {
    case 'correct':
      return `Confirmed: ${record.predicted}`;
    case 'corrected':
      return `Corrected to ${record.correctedLabel}`;
    case 'not-an-animal':
      return 'Not an animal';
    case 'unknown-species':
      return record.freeTextName ? `Another species: ${record.freeTextName}` : 'Another species';
  }
}

/**
 * `onSentAgain`: its item leaves the list, and focus must not leave with it (it would fall
 * back to the page's start).
 */
export function SetAsideList({ onSentAgain }: { onSentAgain: () => void }) {
  const setAside = useFeedbackStore((s) => s.setAside);
  const errors = useFeedbackStore((s) => s.sendAgainErrors);
  const ids = useId();
  return (
    <ul className="outbox-set-aside" aria-label="Corrections kept on this device">
      {setAside.map((record, i) => (
        <li key={record.id} data-testid="outbox-set-aside-item" data-code={record.code}>
          <span id={`${ids}-${i}`}>
            {what(record.record)}, {record.record?.day ?? 'unknown day'}: {reason(record)}
          </span>{' '}
          {record.record === null ? (
            // Sending it again could only be refused again: say so instead of offering it.
            <span className="muted">It cannot be sent again by this version of the app.</span>
          ) : (
            <button
              type="button"
              className="link"
              aria-describedby={`${ids}-${i}`}
              onClick={() => void sendSetAsideAgain(record.id).then(onSentAgain)}
            >
              Send again
            </button>
          )}
          {errors[record.id] && (
            <span className="error-text" role="alert">
              {' '}
              {errors[record.id]!.message}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

/**
 * Shown here as well as in the verdict's own panel: that panel may be gone (another result,
 * another page) while the verdict still waits to be kept.
 */
function NotQueuedList() {
  const notQueued = useFeedbackStore((s) => s.notQueued);
  if (notQueued.length === 0) return null;
  return (
    <ul className="outbox-not-queued" aria-label="Verdicts not kept on this device">
      {notQueued.map((entry) => (
        <li key={entry.recordId} data-testid="outbox-not-queued-item">
          {what(entry.record)}: not kept on this device. {entry.error.message}{' '}
          <button type="button" className="link" onClick={() => void retryQueueing(entry.recordId)}>
            Retry
          </button>
        </li>
      ))}
    </ul>
  );
}

/**
 * How many corrections wait to be sent, the ones set aside (refused, or unreadable by this
 * version), which the user can list with their reason and send again, the verdicts that
 * could not be kept, and a send that failed. The live region holds text only: a button
 * inside it would be read out with every change of the counts.
 */
export function OutboxStatus() {
  const waiting = useFeedbackStore((s) => s.waiting);
  const rejected = useFeedbackStore((s) => s.setAside.length);
  const notQueued = useFeedbackStore((s) => s.notQueued.length);
  const flushError = useFeedbackStore((s) => s.flushError);
  const [open, setOpen] = useState(false);
  const listId = useId();
  const status = useRef<HTMLParagraphElement>(null);
  if (waiting === 0 && rejected === 0 && notQueued === 0 && flushError === null) return null;
  return (
    <div className="outbox-status small">
      <p role="status" tabIndex={-1} ref={status} data-testid="outbox-status">
        {waiting > 0 && (
          <span data-testid="outbox-count" data-count={waiting}>
            {waiting === 1 ? '1 correction' : `${waiting} corrections`} waiting to be sent.{' '}
          </span>
        )}
        {rejected > 0 && (
          <span data-testid="outbox-rejected" data-count={rejected}>
            {rejected === 1 ? '1 correction was' : `${rejected} corrections were`} not sent and
            {rejected === 1 ? ' is' : ' are'} kept on this device.{' '}
          </span>
        )}
        {flushError && (
          <span className="error-text" data-testid="outbox-flush-error">
            {flushError.message}
          </span>
        )}
      </p>
      <NotQueuedList />
      {rejected > 0 && (
        <button
          type="button"
          className="link"
          aria-expanded={open}
          aria-controls={listId}
          onClick={() => setOpen((shown) => !shown)}
        >
          {open ? 'Hide them' : 'Show why'}
        </button>
      )}
      <div id={listId} hidden={!open}>
        {open && <SetAsideList onSentAgain={() => status.current?.focus()} />}
      </div>
    </div>
  );
}
