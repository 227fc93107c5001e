import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { z } from 'zod';
import { fail, ok, type Result } from '../core/errors';
import { describeIssues, feedbackRecordSchema, type FeedbackRecord } from '../core/feedback';
import { isDue, OUTBOX_DELIVERED_MAX, type WaitReason } from '../core/outbox-policy';
import { withOutboxLock } from './outbox-lock';

/**
 * The feedback outbox in IndexedDB, shared by the page (which adds verdicts and sends
 * when online) and the service worker (which sends on Background Sync). A record is never
 * dropped unsent: what the server refused for good, and what can no longer be read, is
 * set aside with the reason, for the user to see and send again.
 */
export interface WaitingRecord {
  id: string;
  record: FeedbackRecord;
  /** The history observation it is about: a newer verdict on it replaces an unsent one. */
  observationId: string | null;
  queuedAt: number;
  attempts: number;
  nextAttemptAt: number;
  /** Set when a batch holding it was refused as a whole: it is then sent on its own. */
  solo: boolean;
  /** How often it was refused as a whole while sent alone (see `OUTBOX_MAX_REFUSALS`). */
  refusals: number;
  /**
   * When it was first put on the wire, written under the lock before the request: from then
   * on the server may hold it, whatever became of the reply, so it is never withdrawn.
   */
  sentAt: number | null;
  /** What its next attempt waits for: only a wait for the network is cut short. */
  waitsFor: WaitReason;
  /**
   * A replacement that waits for the server's word on the earlier verdict of its
   * observation, which was on the wire: it is not sent meanwhile (see `enqueue`).
   */
  held: boolean;
}

/** A record set aside, as the user sees it. */
export interface SetAsideRecord {
  id: string;
  /** Why: a code of `errors.ts` (older versions also wrote `HTTP_<status>`). */
  code: string;
  detail: string | null;
  setAsideAt: number;
  /** Null when the record itself no longer passes the schema (it is kept all the same). */
  record: FeedbackRecord | null;
}

/** The stored form. `record` is whatever was queued: it may fail the schema of this version. */
interface SetAsideRow {
  id: string;
  record: unknown;
  code: string;
  detail?: string;
  observationId?: string | null;
  rejectedAt: number;
  /** Kept so that "Send again" still knows the server may already hold it. */
  sentAt?: number | null;
}

/**
 * Positive evidence that a record reached the server (it answered accepted or duplicate),
 * one per observation: a later verdict on that observation is then held back, not sent.
 */
interface DeliveredMark {
  id: string;
  observationId: string;
  deliveredAt: number;
}

interface OutboxSchema extends DBSchema {
  waiting: {
    key: string;
    value: WaitingRecord;
    indexes: { byQueuedAt: number; byObservation: string };
  };
  // The store keeps its first name, "rejected", so that version 1 databases keep their rows.
  rejected: { key: string; value: SetAsideRow; indexes: { byObservation: string } };
  delivered: {
    key: string;
    value: DeliveredMark;
    indexes: { byObservation: string; byDeliveredAt: number };
  };
}

export const OUTBOX_DB_NAME = 'fieldid-outbox';

let opened: Promise<IDBPDatabase<OutboxSchema>> | null = null;

function openOutbox(): Promise<IDBPDatabase<OutboxSchema>> {
  return new Promise((resolve, reject) => {
    let gaveUp = false;
    let database: IDBPDatabase<OutboxSchema> | null = null;
    openDB<OutboxSchema>(OUTBOX_DB_NAME, 2, {
      upgrade(upgrading, oldVersion, _newVersion, transaction) {
        if (oldVersion < 1) {
          const waiting = upgrading.createObjectStore('waiting', { keyPath: 'id' });
          waiting.createIndex('byQueuedAt', 'queuedAt');
          waiting.createIndex('byObservation', 'observationId');
          upgrading.createObjectStore('rejected', { keyPath: 'id' });
        }
        if (oldVersion < 2) {
          transaction.objectStore('rejected').createIndex('byObservation', 'observationId');
          const delivered = upgrading.createObjectStore('delivered', { keyPath: 'id' });
          delivered.createIndex('byObservation', 'observationId');
          delivered.createIndex('byDeliveredAt', 'deliveredAt');
        }
      },
      // A tab still running an older version holds the database: say so now, instead of
      // leaving the verdict waiting unseen until that tab is closed.
      blocked() {
        gaveUp = true;
        reject(new DOMException('Another tab holds the outbox open.', 'BlockedError'));
      },
      // A newer version wants to upgrade: let it, and open again on the next call.
      blocking() {
        database?.close();
        opened = null;
      },
      terminated() {
        opened = null;
      },
    }).then((ready) => {
      if (gaveUp) ready.close();
      else resolve((database = ready));
    }, reject);
  });
}

function db(): Promise<IDBPDatabase<OutboxSchema>> {
  // A failed open is not kept: the next call (a retry) opens again.
  opened ??= openOutbox().catch((error: unknown) => {
    opened = null;
    throw error;
  });
  return opened;
}

/** What a failed write means for the user; quota is the one cause they can act on. */
function storageFailure(error: unknown): Result<never> {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return fail(name === 'QuotaExceededError' ? 'STORAGE_FULL' : 'STORAGE_FAILED', detail);
}

const waitingRowSchema = z
  .object({
    id: z.string(),
    record: feedbackRecordSchema,
    observationId: z.string().nullable(),
    queuedAt: z.number(),
    attempts: z.number().int().min(0),
    nextAttemptAt: z.number(),
    solo: z.boolean(),
    // Rows queued before refusals were counted have none.
    refusals: z.number().int().min(0).default(0),
    // Rows queued before sends were marked have none of these three (see `wasOnTheWire`).
    sentAt: z.number().nullable().optional(),
    waitsFor: z.enum(['network', 'refused', 'throttled']).default('network'),
    held: z.boolean().default(false),
  })
  // The server answers by record id: a row keyed otherwise would never be marked sent.
  .refine((row) => row.id === row.record.id, { message: 'is keyed under another id' })
  .transform((row): WaitingRecord => ({
    ...row,
    sentAt: wasOnTheWire(row) ? (row.sentAt ?? row.queuedAt) : null,
  }));

/**
 * Whether the server may hold a stored row, read from the raw row so that one this
 * version cannot restore is judged too. A row from before sends were marked carries no
 * `sentAt`: any attempt it made may have been delivered.
 */
function wasOnTheWire(row: unknown): boolean {
  const fields = isObject(row) ? row : {};
  if (typeof fields.sentAt === 'number') return true;
  if (fields.sentAt === null) return false;
  return typeof fields.attempts !== 'number' || fields.attempts > 0;
}

/**
 * Stored rows are re-checked on the way out, the whole row and not only the record; a
 * row that fails (damaged, or written by a version with another schema) is never sent,
 * nor left to wait for ever with no due time.
 */
function restoreWaiting(row: unknown): Result<WaitingRecord> {
  const parsed = waitingRowSchema.safeParse(row);
  return parsed.success ? ok(parsed.data) : fail('VALIDATION_FAILED', describeIssues(parsed.error));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keeps what can be read of a row that failed `restoreWaiting`: the record, as it was. */
function unreadableRow(key: string, row: unknown, detail: string, now: number): SetAsideRow {
  const fields = isObject(row) ? row : {};
  return {
    id: key,
    record: 'record' in fields ? fields.record : row,
    code: 'VALIDATION_FAILED',
    detail: `stored record: ${detail}`,
    observationId: typeof fields.observationId === 'string' ? fields.observationId : null,
    rejectedAt: now,
  };
}

function restoreSetAside(key: string, row: unknown): SetAsideRecord {
  const fields = isObject(row) ? row : {};
  const record = feedbackRecordSchema.safeParse(fields.record);
  return {
    id: key,
    code: typeof fields.code === 'string' ? fields.code : 'VALIDATION_FAILED',
    detail: typeof fields.detail === 'string' ? fields.detail : null,
    setAsideAt: typeof fields.rejectedAt === 'number' ? fields.rejectedAt : 0,
    record: record.success ? record.data : null,
  };
}

/**
 * `queued`: it waits to be sent. `after-earlier`: the verdict it replaces was put on the
 * wire and the server may hold it, so this one waits for the server's word on it (see
 * `enqueue`). `held-back`: the server holds the verdict it replaces, so this one is set
 * aside (code `ALREADY_SENT`) rather than sent as a second verdict on the same photo; the
 * user may still send it from the list of set-aside records.
 */
export type QueueOutcome = 'queued' | 'after-earlier' | 'held-back';

type StoreName = 'waiting' | 'rejected' | 'delivered';
type OutboxTransaction = IDBPTransaction<OutboxSchema, StoreName[], 'readwrite'>;
const ALL_STORES: StoreName[] = ['waiting', 'rejected', 'delivered'];

function newRow(
  record: FeedbackRecord,
  observationId: string | null,
  now: number,
  fields: Partial<WaitingRecord> = {},
): WaitingRecord {
  return {
    id: record.id,
    record,
    observationId,
    queuedAt: now,
    attempts: 0,
    nextAttemptAt: now,
    solo: false,
    refusals: 0,
    sentAt: null,
    waitsFor: 'network',
    held: false,
    ...fields,
  };
}

/** Withdraws the set-aside records of an observation, by key: their photos are not read. */
async function withdrawSetAside(tx: OutboxTransaction, observationId: string): Promise<void> {
  const store = tx.objectStore('rejected');
  const index = store.index('byObservation');
  for (let cursor = await index.openKeyCursor(observationId); cursor;) {
    await store.delete(cursor.primaryKey);
    cursor = await cursor.continue();
  }
}

async function isDelivered(tx: OutboxTransaction, observationId: string): Promise<boolean> {
  return (await tx.objectStore('delivered').index('byObservation').count(observationId)) > 0;
}

function alreadySent(record: FeedbackRecord, observationId: string | null, now: number) {
  return { id: record.id, record, code: 'ALREADY_SENT', observationId, rejectedAt: now };
}

async function replaceAndPut(
  tx: OutboxTransaction,
  record: FeedbackRecord,
  observationId: string | null,
  now: number,
): Promise<QueueOutcome> {
  const waiting = tx.objectStore('waiting');
  let outcome: QueueOutcome = 'queued';
  if (observationId !== null) {
    let onTheWire = false;
    const index = waiting.index('byObservation');
    for (let cursor = await index.openCursor(observationId); cursor;) {
      if (wasOnTheWire(cursor.value)) onTheWire = true;
      else await waiting.delete(cursor.primaryKey);
      cursor = await cursor.continue();
    }
    await withdrawSetAside(tx, observationId);
    if (onTheWire) outcome = 'after-earlier';
    else if (await isDelivered(tx, observationId)) outcome = 'held-back';
  }
  if (outcome === 'held-back') {
    await tx.objectStore('rejected').put(alreadySent(record, observationId, now));
  } else {
    await waiting.put(newRow(record, observationId, now, { held: outcome === 'after-earlier' }));
  }
  await tx.done;
  return outcome;
}

/**
 * Queues a record. The rule for a verdict that replaces another on the same observation,
 * whenever the earlier one was sent (long before, or while this one waited for the lock):
 * the server never gets both unless the user asks for it.
 * - The earlier one was never put on the wire: it is withdrawn, and this one is queued.
 * - The earlier one was put on the wire and no answer about it came back (a lost reply, a
 *   timeout: the upload may still land): it stays queued until the server answers for it,
 *   and this one waits. If the server then holds it, this one is set aside as
 *   `ALREADY_SENT`; if the server refuses it, this one goes instead.
 * - The server holds the earlier one (a "delivered" mark): this one is set aside as
 *   `ALREADY_SENT`, for the user to send again if they mean it.
 * All of it reads the outbox under the lock, so it sees what the sender last recorded. A
 * failed write (storage full, the database held by another tab) leaves the outbox as it
 * was and comes back as a value, for the user to see.
 */
export async function enqueue(
  record: FeedbackRecord,
  observationId: string | null,
  now: number,
): Promise<Result<QueueOutcome>> {
  try {
    return await withOutboxLock(async () => {
      const tx = (await db()).transaction(ALL_STORES, 'readwrite');
      try {
        return ok<QueueOutcome>(await replaceAndPut(tx, record, observationId, now));
      } catch (error) {
        // A write that threw is not always an aborted transaction: abort it, so a
        // withdrawal is never kept without the record that replaces it.
        try {
          tx.abort();
        } catch {
          // It had ended already, aborted by the failure itself.
        }
        await tx.done.catch(() => {});
        throw error;
      }
    });
  } catch (error) {
    return storageFailure(error);
  }
}

/**
 * Records due now, oldest first; a row that cannot be read is set aside on the way. A
 * replacement held for an earlier verdict is settled here once that one has left the
 * queue: set aside if the server holds it, otherwise released (see `enqueue`). Called under
 * the outbox lock, by the sender.
 */
export async function dueRecords(now: number, ignoreSchedule = false): Promise<WaitingRecord[]> {
  // The whole store, not the byQueuedAt index: a row without a valid queuedAt is missing
  // from the index, and would never be seen (nor set aside).
  const tx = (await db()).transaction(ALL_STORES, 'readwrite');
  const readable: WaitingRecord[] = [];
  const waiting = tx.objectStore('waiting');
  for (let cursor = await waiting.openCursor(); cursor; cursor = await cursor.continue()) {
    const restored = restoreWaiting(cursor.value);
    if (restored.ok) {
      readable.push(restored.value);
      continue;
    }
    const key = String(cursor.primaryKey);
    const detail = restored.error.detail ?? restored.error.message;
    await tx.objectStore('rejected').put(unreadableRow(key, cursor.value, detail, now));
    await cursor.delete();
  }
  const awaited = new Set(
    readable.filter((row) => row.sentAt !== null).map((row) => row.observationId),
  );
  const due: WaitingRecord[] = [];
  for (const row of readable) {
    let ready = row;
    if (row.held && (row.observationId === null || !awaited.has(row.observationId))) {
      if (row.observationId !== null && (await isDelivered(tx, row.observationId))) {
        await tx.objectStore('rejected').put(alreadySent(row.record, row.observationId, now));
        await waiting.delete(row.id);
        continue;
      }
      // The earlier verdict was refused, or can no longer be sent: this one takes its place.
      if (row.observationId !== null) await withdrawSetAside(tx, row.observationId);
      ready = { ...row, held: false, nextAttemptAt: now, waitsFor: 'network' };
      await waiting.put(ready);
    }
    if (!ready.held && isDue(ready, now, ignoreSchedule)) due.push(ready);
  }
  await tx.done;
  return due.sort((a, b) => a.queuedAt - b.queuedAt);
}

/** Written under the lock before the request goes: see `WaitingRecord.sentAt`. */
export async function markOnTheWire(ids: readonly string[], now: number): Promise<void> {
  const tx = (await db()).transaction('waiting', 'readwrite');
  for (const id of ids) {
    const row = await tx.store.get(id);
    if (row !== undefined) await tx.store.put({ ...row, sentAt: row.sentAt ?? now });
  }
  await tx.done;
}

/**
 * The server holds these (accepted or duplicate): they leave the queue, and in the same
 * transaction their observation is marked delivered, so no later step has to infer
 * delivery from a record being missing.
 */
export async function markDelivered(ids: readonly string[], now: number): Promise<void> {
  const tx = (await db()).transaction(['waiting', 'delivered'], 'readwrite');
  const delivered = tx.objectStore('delivered');
  for (const id of ids) {
    const row = await tx.objectStore('waiting').get(id);
    if (row === undefined) continue;
    await tx.objectStore('waiting').delete(id);
    if (typeof row.observationId !== 'string') continue;
    const index = delivered.index('byObservation');
    for (let cursor = await index.openKeyCursor(row.observationId); cursor;) {
      await delivered.delete(cursor.primaryKey);
      cursor = await cursor.continue();
    }
    await delivered.put({ id, observationId: row.observationId, deliveredAt: now });
  }
  let surplus = (await delivered.count()) - OUTBOX_DELIVERED_MAX;
  const oldest = delivered.index('byDeliveredAt');
  for (let cursor = await oldest.openKeyCursor(); cursor && surplus > 0; surplus--) {
    await delivered.delete(cursor.primaryKey);
    cursor = await cursor.continue();
  }
  await tx.done;
}

export async function setAside(
  refused: readonly { id: string; code: string; detail?: string }[],
  now: number,
): Promise<void> {
  const tx = (await db()).transaction(['waiting', 'rejected'], 'readwrite');
  for (const { id, code, detail } of refused) {
    const row = await tx.objectStore('waiting').get(id);
    if (row === undefined) continue;
    await tx.objectStore('rejected').put({
      id,
      record: row.record,
      code,
      ...(detail === undefined ? {} : { detail }),
      observationId: row.observationId,
      rejectedAt: now,
      sentAt: wasOnTheWire(row) ? (row.sentAt ?? row.queuedAt) : null,
    });
    await tx.objectStore('waiting').delete(id);
  }
  await tx.done;
}

/**
 * One more try later, after `delayFor(attempts so far)`, waiting for `reason`; a refusal
 * as a whole is also counted, which bounds how often the same bytes are sent.
 */
export async function reschedule(
  ids: readonly string[],
  delayFor: (attempts: number) => number,
  now: number,
  reason: WaitReason,
): Promise<void> {
  const tx = (await db()).transaction('waiting', 'readwrite');
  for (const id of ids) {
    const row = await tx.store.get(id);
    if (row === undefined) continue;
    await tx.store.put({
      ...row,
      attempts: row.attempts + 1,
      nextAttemptAt: now + delayFor(row.attempts),
      refusals: (row.refusals ?? 0) + (reason === 'refused' ? 1 : 0),
      waitsFor: reason,
    });
  }
  await tx.done;
}

export async function markSolo(ids: readonly string[]): Promise<void> {
  const tx = (await db()).transaction('waiting', 'readwrite');
  for (const id of ids) {
    const row = await tx.store.get(id);
    if (row !== undefined) await tx.store.put({ ...row, solo: true });
  }
  await tx.done;
}

export interface OutboxSnapshot {
  waiting: number;
  nextAttemptAt: number | null;
  setAside: SetAsideRecord[];
}

/** What the outbox holds, for the page to show: counts, the next retry, the set-aside list. */
export async function outboxSnapshot(): Promise<OutboxSnapshot> {
  const tx = (await db()).transaction(['waiting', 'rejected'], 'readonly');
  const rows = await tx.objectStore('waiting').getAll();
  const setAsideStore = tx.objectStore('rejected');
  const setAside: SetAsideRecord[] = [];
  for (let cursor = await setAsideStore.openCursor(); cursor; cursor = await cursor.continue()) {
    setAside.push(restoreSetAside(String(cursor.primaryKey), cursor.value));
  }
  await tx.done;
  // A held replacement has no time of its own: it goes when the earlier verdict is settled.
  const due = rows
    .filter((row) => row.held !== true)
    .map((row) => row.nextAttemptAt)
    .filter((at) => typeof at === 'number');
  return {
    waiting: rows.length,
    nextAttemptAt: due.length === 0 ? null : Math.min(...due),
    setAside: setAside.sort((a, b) => a.setAsideAt - b.setAsideAt),
  };
}

/**
 * "Send again": the set-aside record waits once more, with its tries counted afresh. One
 * that fails this version's schema stays aside: sending it could only be refused again.
 */
export async function sendAgain(id: string, now: number): Promise<Result<void>> {
  try {
    const tx = (await db()).transaction(['waiting', 'rejected'], 'readwrite');
    const row: unknown = await tx.objectStore('rejected').get(id);
    const fields = isObject(row) ? row : {};
    const record = feedbackRecordSchema.safeParse(fields.record);
    if (row === undefined || !record.success || record.data.id !== id) {
      tx.abort();
      await tx.done.catch(() => {});
      return row === undefined
        ? ok(undefined) // already sent again elsewhere (another tab)
        : fail(
            'VALIDATION_FAILED',
            record.success ? 'is keyed under another id' : describeIssues(record.error),
          );
    }
    const observationId = typeof fields.observationId === 'string' ? fields.observationId : null;
    // Sent before, it may be held by the server: a later change must still not withdraw it.
    const sentAt = typeof fields.sentAt === 'number' ? fields.sentAt : null;
    await tx
      .objectStore('waiting')
      .put(newRow(record.data, observationId, now, { solo: true, sentAt }));
    await tx.objectStore('rejected').delete(id);
    await tx.done;
    return ok(undefined);
  } catch (error) {
    return storageFailure(error);
  }
}
