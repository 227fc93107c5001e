import type { ErrorCode } from './errors';
import { canonicalJson, type FeedbackReply, type FeedbackRecord } from './feedback';
import { DEFAULT_HISTORY_LIMITS } from './history-policy';

/**
 * When and how the feedback outbox sends: batch sizing, retry timing, and what each
 * server answer means for each waiting record. Pure, so every rule is tested without a
 * network or a database.
 */

export const OUTBOX_BASE_DELAY_MS = 2_000;
export const OUTBOX_MAX_DELAY_MS = 30 * 60_000;

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so
 * thousands of phones coming back online at once do not retry in lockstep.
 */
export function backoffDelayMs(attempts: number, random: number): number {
  const exponential = Math.min(
    OUTBOX_MAX_DELAY_MS,
    OUTBOX_BASE_DELAY_MS * 2 ** Math.max(0, attempts),
  );
  return Math.round(exponential / 2 + (exponential / 2) * Math.min(1, Math.max(0, random)));
}

/**
 * A `Retry-After` longer than this is taken as this: the phone asks again then, instead of
 * holding its records for as long as a broken header says (or past what a timer can wait).
 */
export const OUTBOX_MAX_RETRY_AFTER_MS = 24 * 3_600_000;

const WEEKDAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '\\d{2}:\\d{2}:\\d{2}';
/** The three HTTP-date forms (RFC 9110 §5.6.7): IMF-fixdate, RFC 850 and asctime. */
const HTTP_DATE = new RegExp(
  `^(?:${WEEKDAY}, \\d{2} ${MONTH} \\d{4} ${TIME} GMT` +
    `|${WEEKDAY}[a-z]{0,6}, \\d{2}-${MONTH}-\\d{2} ${TIME} GMT` +
    `|${WEEKDAY} ${MONTH} [ \\d]\\d ${TIME} \\d{4})$`,
);

/**
 * `Retry-After` as seconds or an HTTP date; null when absent or unreadable. Only the forms
 * HTTP allows are read: `Date.parse` alone takes "-5" or "soon 3" for dates in the past,
 * which would turn a 429 into an immediate retry.
 */
export function retryAfterMs(header: string | null, nowMs: number): number | null {
  const trimmed = header?.trim() ?? '';
  let delayMs: number;
  if (/^\d+$/.test(trimmed)) delayMs = Number(trimmed) * 1000;
  else if (HTTP_DATE.test(trimmed)) {
    // asctime carries no zone, and HTTP dates are always GMT.
    const date = Date.parse(trimmed.endsWith('GMT') ? trimmed : `${trimmed} GMT`);
    if (Number.isNaN(date)) return null;
    delayMs = Math.max(0, date - nowMs);
  } else return null;
  return Math.min(delayMs, OUTBOX_MAX_RETRY_AFTER_MS);
}

/**
 * How long a record waits before its next attempt: the server's `Retry-After` when it gave
 * one, but never less than the backoff, so a `Retry-After: 0` (or a date already past by
 * the phone's clock) cannot make the outbox hammer a server that keeps refusing.
 */
export function retryDelayMs(attempts: number, retryAfter: number | null, random: number): number {
  return Math.max(retryAfter ?? 0, backoffDelayMs(attempts, random));
}

/** Takes records in order until the batch would pass either limit (always at least one). */
export function takeBatch<T extends { record: FeedbackRecord }>(
  waiting: readonly T[],
  maxRecords: number,
  maxBytes: number,
): T[] {
  const batch: T[] = [];
  // `{"records":[` + `]}` plus a comma per record.
  let bytes = 14;
  for (const item of waiting) {
    const size = new TextEncoder().encode(canonicalJson(item.record)).byteLength + 1;
    if (batch.length > 0 && (batch.length >= maxRecords || bytes + size > maxBytes)) break;
    batch.push(item);
    bytes += size;
  }
  return batch;
}

/**
 * How long one request may take, reply included, before it is abandoned and retried
 * later. The sender holds the outbox lock while it waits, so without a limit one hung
 * connection would stop every later send until the page closed. A full batch is at most
 * about 5 MiB (photos); at 1 Mbit/s, a poor mobile uplink, that takes some 45 s to upload.
 * On a slower link a batch that times out is sent again one record at a time (the sender).
 */
export const OUTBOX_SEND_TIMEOUT_MS = 60_000;

/**
 * A record sent alone and refused as a whole (400, 413, 415) is tried this many times in
 * all before it is set aside. Such an answer often comes from something in between (a
 * proxy, a firewall rule, a smaller body limit during a deploy) and is fixed within the
 * hour: with the backoff doubling from 2 s, twelve tries span half an hour to an hour. A body
 * the server itself refuses is refused every time, and each try may carry a 256 KB photo
 * over a metered connection, so it is not sent for days either; the user can still send
 * it again from the list of set-aside records.
 */
export const OUTBOX_MAX_REFUSALS = 12;

/**
 * Why a record waits for its next attempt. Only `network` is worth cutting short when the
 * network comes back (app start, the `online` event, Background Sync): the other two are
 * the server's own answer, and asking again early only repeats it, or hammers a server
 * that asked for time.
 */
export type WaitReason =
  /** No answer at all: offline, unreachable, or abandoned after the timeout. */
  | 'network'
  /** Refused as a whole (400, 413, 415), sent alone. */
  | 'refused'
  /** The server answered "later": 429, 5xx, or an answer that said nothing of the record. */
  | 'throttled';

/** What a `retry` outcome waits for, from the status of the answer (0: none). */
export function retryReason(status: number): WaitReason {
  return status === 0 ? 'network' : 'throttled';
}

/** Whether a waiting record goes now; `ignoreSchedule` is set when the network came back. */
export function isDue(
  row: { nextAttemptAt: number; waitsFor: WaitReason },
  now: number,
  ignoreSchedule: boolean,
): boolean {
  return row.nextAttemptAt <= now || (ignoreSchedule && row.waitsFor === 'network');
}

/**
 * How many "delivered" marks the outbox keeps, one per observation: as many as the history
 * keeps observations, so a verdict changed in any entry the history still shows is known
 * to have reached the server. Each mark is two ids and a time, a few MB at most.
 */
export const OUTBOX_DELIVERED_MAX = DEFAULT_HISTORY_LIMITS.maxEntries;

export type SendOutcome =
  /** Stored by the server (now or before): the record leaves the outbox. */
  | { kind: 'done'; ids: string[] }
  /** The server will not take these: kept aside with the reason, not retried on their own. */
  | { kind: 'rejected'; records: { id: string; code: string; detail?: string }[] }
  /** Try again later: no network, server trouble, or rate limiting. */
  | { kind: 'retry'; ids: string[]; afterMs: number | null }
  /** The batch as a whole was refused: send these one at a time to find the culprit. */
  | { kind: 'split'; ids: string[] }
  /** A record sent alone was refused as a whole, fewer than `OUTBOX_MAX_REFUSALS` times. */
  | { kind: 'refused'; ids: string[] };

/**
 * What one HTTP answer means for the records that were sent. Anything that is not a
 * well-formed answer to this exact batch is treated as "try again" — never as delivered.
 * `priorRefusals`: how often a record sent alone was already refused as a whole.
 */
export function interpretReply(
  sentIds: readonly string[],
  status: number,
  body: FeedbackReply | null,
  retryAfter: number | null,
  priorRefusals = 0,
): SendOutcome[] {
  const all = [...sentIds];
  if (status === 429 || status >= 500 || status === 0) {
    return [{ kind: 'retry', ids: all, afterMs: retryAfter }];
  }
  if ((status === 200 || status === 422) && body !== null) {
    const byId = new Map(body.results.map((r) => [r.id, r]));
    const done: string[] = [];
    const rejected: { id: string; code: string }[] = [];
    const retry: string[] = [];
    for (const id of all) {
      const result = byId.get(id);
      if (result === undefined) retry.push(id);
      else if (result.status === 'rejected') rejected.push({ id, code: result.code ?? 'REJECTED' });
      else done.push(id);
    }
    const outcomes: SendOutcome[] = [];
    if (done.length > 0) outcomes.push({ kind: 'done', ids: done });
    if (rejected.length > 0) outcomes.push({ kind: 'rejected', records: rejected });
    if (retry.length > 0) outcomes.push({ kind: 'retry', ids: retry, afterMs: null });
    return outcomes;
  }
  // The request itself was refused (400, 413, 415). A larger batch is split so one bad
  // record cannot sink the rest; a record alone is tried again a few times, since the
  // refusal may come from something in between that is fixed later, then set aside with
  // the code. Any other answer (a 422 without its results, a 404 from a half-deployed
  // server, a 408, a proxy's 403) says nothing about the records: try again.
  const refusal = REFUSED_AS_A_WHOLE.get(status);
  if (refusal !== undefined) {
    if (all.length > 1) return [{ kind: 'split', ids: all }];
    if (priorRefusals + 1 < OUTBOX_MAX_REFUSALS) return [{ kind: 'refused', ids: all }];
    const detail = `HTTP ${status}`;
    return [{ kind: 'rejected', records: all.map((id) => ({ id, code: refusal, detail })) }];
  }
  return [{ kind: 'retry', ids: all, afterMs: retryAfter }];
}

/** The server's own codes for these answers (`http-errors.ts`), whoever gave them. */
const REFUSED_AS_A_WHOLE: ReadonlyMap<number, ErrorCode> = new Map([
  [400, 'VALIDATION_FAILED'],
  [413, 'PAYLOAD_TOO_LARGE'],
  [415, 'UNSUPPORTED_MEDIA_TYPE'],
]);

/** The user's local calendar day: all the time a record carries. */
export function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
