import { useFeedbackStore } from '../stores/feedback-store';

/** How many corrections wait to be sent, and how many the server refused for good. */
export function OutboxStatus() {
  const waiting = useFeedbackStore((s) => s.waiting);
  const rejected = useFeedbackStore((s) => s.rejected);
  if (waiting === 0 && rejected === 0) return null;
  return (
    <p className="outbox-status small" role="status">
      {waiting > 0 && (
        <span data-testid="outbox-count" data-count={waiting}>
          {waiting === 1 ? '1 correction' : `${waiting} corrections`} waiting to be sent.{' '}
        </span>
      )}
      {rejected > 0 && (
        <span data-testid="outbox-rejected" data-count={rejected}>
          {rejected === 1 ? '1 correction was' : `${rejected} corrections were`} refused by the
          server and kept on this device.
        </span>
      )}
    </p>
  );
}
