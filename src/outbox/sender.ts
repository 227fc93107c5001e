import {
  DEFAULT_MAX_BATCH_BYTES,
  FEEDBACK_API_PATH,
  MAX_BATCH_RECORDS,
  feedbackReplySchema,
  type FeedbackReply,
} from '../core/feedback';
import { interpretReply, retryAfterMs, retryDelayMs, takeBatch } from '../core/outbox-policy';
import { dueRecords, markSolo, removeWaiting, reschedule, setAside } from './outbox-db';

/**
 * Sends what the outbox holds, in batches, until it is empty or the server or the
 * network says "later". Runs in the page and in the service worker; a Web Lock makes
 * sure only one of them sends at a time, so a record is never in two requests at once.
 */
export const OUTBOX_CHANNEL = 'fieldid-outbox';
export const SYNC_TAG = 'fieldid-feedback';
/** Room for the JSON around the records: a batch never reaches the server's body limit. */
const BATCH_BYTES = DEFAULT_MAX_BATCH_BYTES - 64 * 1024;

export interface FlushSummary {
  sent: number;
  rejected: number;
  retryLater: number;
}

async function withLock<T>(work: () => Promise<T>): Promise<T> {
  const locks = (
    globalThis.navigator as
      { locks?: { request<R>(name: string, callback: () => Promise<R>): Promise<R> } } | undefined
  )?.locks;
  return locks ? locks.request('fieldid-outbox', work) : work();
}

function announce() {
  if (typeof BroadcastChannel === 'undefined') return;
  const channel = new BroadcastChannel(OUTBOX_CHANNEL);
  channel.postMessage('changed');
  channel.close();
}

/**
 * `ignoreSchedule`: the network just came back (the `online` event, Background Sync), so
 * records waiting out a backoff for lack of network go now; a server's Retry-After still
 * stops the loop as soon as it is answered again.
 */
export function flushOutbox(
  fetchFn: typeof fetch = fetch,
  options: { ignoreSchedule?: boolean } = {},
): Promise<FlushSummary> {
  return withLock(async () => {
    const summary: FlushSummary = { sent: 0, rejected: 0, retryLater: 0 };
    for (;;) {
      const due = await dueRecords(options.ignoreSchedule ? Number.POSITIVE_INFINITY : Date.now());
      if (due.length === 0) break;
      const batch = due[0]!.solo
        ? due.slice(0, 1)
        : takeBatch(
            due.filter((r) => !r.solo),
            MAX_BATCH_RECORDS,
            BATCH_BYTES,
          );
      const ids = batch.map((b) => b.id);

      let status = 0;
      let body: FeedbackReply | null = null;
      let retryAfter: number | null = null;
      try {
        const response = await fetchFn(FEEDBACK_API_PATH, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ records: batch.map((b) => b.record) }),
        });
        status = response.status;
        retryAfter = retryAfterMs(response.headers.get('retry-after'), Date.now());
        if (status === 200 || status === 422) {
          const parsed = feedbackReplySchema.safeParse(await response.json().catch(() => null));
          body = parsed.success ? parsed.data : null;
        }
      } catch {
        // Offline or the server is unreachable: status stays 0, which means "retry later".
      }

      let stop = false;
      for (const outcome of interpretReply(ids, status, body, retryAfter)) {
        if (outcome.kind === 'done') {
          await removeWaiting(outcome.ids);
          summary.sent += outcome.ids.length;
        } else if (outcome.kind === 'rejected') {
          await setAside(outcome.records, Date.now());
          summary.rejected += outcome.records.length;
        } else if (outcome.kind === 'split') {
          await markSolo(outcome.ids);
        } else {
          const afterMs = outcome.afterMs;
          await reschedule(
            outcome.ids,
            (attempts) => retryDelayMs(attempts, afterMs, Math.random()),
            Date.now(),
          );
          summary.retryLater += outcome.ids.length;
          stop = true;
        }
      }
      announce();
      if (stop) break;
    }
    return summary;
  });
}
