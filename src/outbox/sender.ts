import {
  DEFAULT_MAX_BATCH_BYTES,
  FEEDBACK_API_PATH,
  MAX_BATCH_RECORDS,
  feedbackReplySchema,
  type FeedbackReply,
} from '../core/feedback';
import {
  interpretReply,
  OUTBOX_SEND_TIMEOUT_MS,
  retryAfterMs,
  retryDelayMs,
  retryReason,
  takeBatch,
} from '../core/outbox-policy';
import {
  dueRecords,
  markDelivered,
  markOnTheWire,
  markSolo,
  reschedule,
  setAside,
  type WaitingRecord,
} from './outbox-db';
import { withOutboxLock } from './outbox-lock';

/**
 * Sends what the outbox holds, in batches, until it is empty or the server or the
 * network says "later". Runs in the page and in the service worker. Each batch is sent
 * under the outbox lock (`outbox-lock.ts`), from reading the due records to recording the
 * answer, so a record is never in two requests at once, nor withdrawn while on the wire.
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

function announce() {
  if (typeof BroadcastChannel === 'undefined') return;
  const channel = new BroadcastChannel(OUTBOX_CHANNEL);
  channel.postMessage('changed');
  channel.close();
}

interface Answer {
  status: number;
  body: FeedbackReply | null;
  retryAfter: number | null;
  /** Abandoned after `OUTBOX_SEND_TIMEOUT_MS`: the link may be too slow for the batch. */
  timedOut: boolean;
}

/** Status 0 means "no answer": offline, unreachable, or not answered in time. */
const NO_ANSWER: Answer = { status: 0, body: null, retryAfter: null, timedOut: false };

/**
 * One request, abandoned after `OUTBOX_SEND_TIMEOUT_MS`. The timer settles the wait even
 * when the connection ignores the abort, so the lock is always given back.
 */
async function post(fetchFn: typeof fetch, batch: readonly WaitingRecord[]): Promise<Answer> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<Answer>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException('The feedback request timed out.', 'TimeoutError'));
      resolve({ ...NO_ANSWER, timedOut: true });
    }, OUTBOX_SEND_TIMEOUT_MS);
  });
  const exchange = async (): Promise<Answer> => {
    const response = await fetchFn(FEEDBACK_API_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ records: batch.map((b) => b.record) }),
      signal: controller.signal,
    });
    const { status } = response;
    const retryAfter = retryAfterMs(response.headers.get('retry-after'), Date.now());
    let body: FeedbackReply | null = null;
    if (status === 200 || status === 422) {
      const parsed = feedbackReplySchema.safeParse(await response.json().catch(() => null));
      body = parsed.success ? parsed.data : null;
    }
    return { status, body, retryAfter, timedOut: false };
  };
  try {
    return await Promise.race([exchange().catch(() => NO_ANSWER), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function nextBatch(due: readonly WaitingRecord[]): WaitingRecord[] {
  return due[0]!.solo
    ? due.slice(0, 1)
    : takeBatch(
        due.filter((r) => !r.solo),
        MAX_BATCH_RECORDS,
        BATCH_BYTES,
      );
}

type BatchResult = { kind: 'empty' } | { kind: 'sent'; stop: boolean };

interface FlushRun {
  fetchFn: typeof fetch;
  ignoreSchedule: boolean;
  summary: FlushSummary;
  /** Rescheduled in this run: not sent again in it, even when the schedule is ignored. */
  deferred: Set<string>;
}

async function sendOneBatch(run: FlushRun): Promise<BatchResult> {
  const { summary } = run;
  const due = (await dueRecords(Date.now(), run.ignoreSchedule)).filter(
    (row) => !run.deferred.has(row.id),
  );
  if (due.length === 0) return { kind: 'empty' };
  const batch = nextBatch(due);
  const ids = batch.map((b) => b.id);
  // Before the request, never after: a reply may be lost, or the upload may land after the
  // timeout, and a record the server may hold must not be withdrawn by a later verdict.
  await markOnTheWire(ids, Date.now());
  const { status, body, retryAfter, timedOut } = await post(run.fetchFn, batch);

  let stop = false;
  const refusals = batch.length === 1 ? batch[0]!.refusals : 0;
  for (const outcome of interpretReply(ids, status, body, retryAfter, refusals)) {
    if (outcome.kind === 'done') {
      await markDelivered(outcome.ids, Date.now());
      summary.sent += outcome.ids.length;
    } else if (outcome.kind === 'rejected') {
      await setAside(outcome.records, Date.now());
      summary.rejected += outcome.records.length;
    } else if (outcome.kind === 'split') {
      await markSolo(outcome.ids);
    } else if (outcome.kind === 'refused') {
      // Only this record waits: the others go on now.
      const delayFor = (attempts: number) => retryDelayMs(attempts, null, Math.random());
      await reschedule(outcome.ids, delayFor, Date.now(), 'refused');
      for (const id of outcome.ids) run.deferred.add(id);
      summary.retryLater += outcome.ids.length;
    } else {
      const afterMs = outcome.afterMs;
      await reschedule(
        outcome.ids,
        (attempts) => retryDelayMs(attempts, afterMs, Math.random()),
        Date.now(),
        retryReason(status),
      );
      summary.retryLater += outcome.ids.length;
      stop = true;
    }
  }
  // A batch of photos can take longer than the timeout on a slow uplink, and sending the
  // same batch again would never finish: its records go one at a time from now on.
  if (timedOut && batch.length > 1) await markSolo(ids);
  return { kind: 'sent', stop };
}

/**
 * `ignoreSchedule`: the network just came back (app start, the `online` event, Background
 * Sync), so records waiting out a backoff for lack of network go now. Records waiting
 * because the server refused them or asked for time (Retry-After) keep their schedule:
 * the network coming back changes nothing about that answer.
 */
export async function flushOutbox(
  fetchFn: typeof fetch = fetch,
  options: { ignoreSchedule?: boolean } = {},
): Promise<FlushSummary> {
  const run: FlushRun = {
    fetchFn,
    ignoreSchedule: options.ignoreSchedule ?? false,
    summary: { sent: 0, rejected: 0, retryLater: 0 },
    deferred: new Set(),
  };
  for (;;) {
    // The lock is taken per batch, so a replacement waits for one request at most.
    const result = await withOutboxLock(() => sendOneBatch(run));
    if (result.kind === 'empty') break;
    announce();
    if (result.stop) break;
  }
  return run.summary;
}
