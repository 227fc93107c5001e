import { useId, useState } from 'react';
import { ERROR_MESSAGES, isErrorCode } from '../../core/errors';
import type { FeedbackRecord } from '../../core/feedback';
import type { SetAsideRecord } from '../../outbox/outbox-db';
import { sendSetAsideAgain } from './feedback-service';
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

function SetAsideList() {
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
          <button
            type="button"
            className="link"
            aria-describedby={`${ids}-${i}`}
            onClick={() => void sendSetAsideAgain(record.id)}
          >
            Send again
          </button>
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
 * How many corrections wait to be sent, and the ones set aside (refused, or unreadable by
 * this version), which the user can list with their reason and send again.
 */
export function OutboxStatus() {
  const waiting = useFeedbackStore((s) => s.waiting);
  const rejected = useFeedbackStore((s) => s.setAside.length);
  const [open, setOpen] = useState(false);
  const listId = useId();
  if (waiting === 0 && rejected === 0) return null;
  return (
    <div className="outbox-status small">
      <p role="status">
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
      </p>
      <div id={listId} hidden={!open}>
        {open && <SetAsideList />}
      </div>
    </div>
  );
}
