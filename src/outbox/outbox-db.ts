import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import { z } from 'zod';
import { fail, ok, type Result } from '../core/errors';
import { describeIssues, feedbackRecordSchema, type FeedbackRecord } from '../core/feedback';
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
}

interface OutboxSchema extends DBSchema {
  waiting: {
    key: string;
    value: WaitingRecord;
    indexes: { byQueuedAt: number; byObservation: string };
  };
  // The store keeps its first name, "rejected", so that version 1 databases need no upgrade.
  rejected: { key: string; value: SetAsideRow };
}

export const OUTBOX_DB_NAME = 'fieldid-outbox';

let opened: Promise<IDBPDatabase<OutboxSchema>> | null = null;

function openOutbox(): Promise<IDBPDatabase<OutboxSchema>> {
  return new Promise((resolve, reject) => {
    let gaveUp = false;
    let database: IDBPDatabase<OutboxSchema> | null = null;
    openDB<OutboxSchema>(OUTBOX_DB_NAME, 1, {
      upgrade(upgrading) {
        const waiting = upgrading.createObjectStore('waiting', { keyPath: 'id' });
        waiting.createIndex('byQueuedAt', 'queuedAt');
        waiting.createIndex('byObservation', 'observationId');
        upgrading.createObjectStore('rejected', { keyPath: 'id' });
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
  })
  // The server answers by record id: a row keyed otherwise would never be marked sent.
  .refine((row) => row.id === row.record.id, { message: 'is keyed under another id' });

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
 * `queued`: it waits to be sent. `held-back`: the verdict it replaces was on the wire when
 * the user changed their mind and reached the server, so this one is set aside (code
 * `ALREADY_SENT`) rather than sent as a second verdict on the same photo; the user may
 * still send it from the list of set-aside records.
 */
export type QueueOutcome = 'queued' | 'held-back';

type OutboxTransaction = IDBPTransaction<OutboxSchema, ('waiting' | 'rejected')[], 'readwrite'>;

async function replaceAndPut(
  tx: OutboxTransaction,
  record: FeedbackRecord,
  observationId: string | null,
  replacing: readonly string[],
  now: number,
): Promise<QueueOutcome> {
  const waiting = tx.objectStore('waiting');
  const setAsideStore = tx.objectStore('rejected');
  let delivered = false;
  if (observationId !== null) {
    const stillWaiting = await waiting.index('byObservation').getAllKeys(observationId);
    for (const id of stillWaiting) await waiting.delete(id);
    for (const id of replacing) {
      if (stillWaiting.includes(id)) continue;
      // Gone while the send held the lock: set aside (refused), or else delivered.
      if ((await setAsideStore.get(id)) === undefined) delivered = true;
    }
    for (const row of await setAsideStore.getAll()) {
      if (row.observationId === observationId) await setAsideStore.delete(row.id);
    }
  }
  if (delivered) {
    await setAsideStore.put({
      id: record.id,
      record,
      code: 'ALREADY_SENT',
      observationId,
      rejectedAt: now,
    });
  } else {
    await waiting.put({
      id: record.id,
      record,
      observationId,
      queuedAt: now,
      attempts: 0,
      nextAttemptAt: now,
      solo: false,
      refusals: 0,
    });
  }
  await tx.done;
  return delivered ? 'held-back' : 'queued';
}

/**
 * Queues a record. A newer verdict on the same observation withdraws the unsent one (and
 * one set aside) under the outbox lock, so a withdrawn record is never on the wire and
 * never reaches the server: of a verdict and its replacement, at most one is sent. A
 * failed write (storage full, the database held by another tab) leaves the outbox as it
 * was and comes back as a value, for the user to see.
 */
export async function enqueue(
  record: FeedbackRecord,
  observationId: string | null,
  now: number,
): Promise<Result<QueueOutcome>> {
  try {
    // What the user is replacing, read before waiting for the lock: a send may hold it.
    const replacing =
      observationId === null
        ? []
        : await (await db()).getAllKeysFromIndex('waiting', 'byObservation', observationId);
    return await withOutboxLock(async () => {
      const tx = (await db()).transaction(['waiting', 'rejected'], 'readwrite');
      try {
        return ok<QueueOutcome>(await replaceAndPut(tx, record, observationId, replacing, now));
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

/** Records due now, oldest first; a row that cannot be read is set aside on the way. */
export async function dueRecords(now: number): Promise<WaitingRecord[]> {
  // The whole store, not the byQueuedAt index: a row without a valid queuedAt is missing
  // from the index, and would never be seen (nor set aside).
  const tx = (await db()).transaction(['waiting', 'rejected'], 'readwrite');
  const due: WaitingRecord[] = [];
  const waiting = tx.objectStore('waiting');
  for (let cursor = await waiting.openCursor(); cursor; cursor = await cursor.continue()) {
    const restored = restoreWaiting(cursor.value);
    if (restored.ok) {
      if (restored.value.nextAttemptAt <= now) due.push(restored.value);
      continue;
    }
    const key = String(cursor.primaryKey);
    const detail = restored.error.detail ?? restored.error.message;
    await tx.objectStore('rejected').put(unreadableRow(key, cursor.value, detail, now));
    await cursor.delete();
  }
  await tx.done;
  return due.sort((a, b) => a.queuedAt - b.queuedAt);
}

export async function removeWaiting(ids: readonly string[]): Promise<void> {
  const tx = (await db()).transaction('waiting', 'readwrite');
  await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
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
    });
    await tx.objectStore('waiting').delete(id);
  }
  await tx.done;
}

/**
 * One more try later, after `delayFor(attempts so far)`; `refused` also counts a refusal
 * as a whole, which bounds how often the same bytes are sent.
 */
export async function reschedule(
  ids: readonly string[],
  delayFor: (attempts: number) => number,
  now: number,
  options: { refused?: boolean } = {},
): Promise<void> {
  const tx = (await db()).transaction('waiting', 'readwrite');
  for (const id of ids) {
    const row = await tx.store.get(id);
    if (row === undefined) continue;
    await tx.store.put({
      ...row,
      attempts: row.attempts + 1,
      nextAttemptAt: now + delayFor(row.attempts),
      refusals: (row.refusals ?? 0) + (options.refused ? 1 : 0),
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
  const due = rows.map((row) => row.nextAttemptAt).filter((at) => typeof at === 'number');
  return {
    waiting: rows.length,
    nextAttemptAt: due.length === 0 ? null : Math.min(...due),
    setAside: setAside.sort((a, b) => a.setAsideAt - b.setAsideAt),
  };
}

export async function outboxCounts(): Promise<{
  waiting: number;
  rejected: number;
  nextAttemptAt: number | null;
}> {
  const snapshot = await outboxSnapshot();
  return {
    waiting: snapshot.waiting,
    rejected: snapshot.setAside.length,
    nextAttemptAt: snapshot.nextAttemptAt,
  };
}

export async function setAsideRecords(): Promise<SetAsideRecord[]> {
  return (await outboxSnapshot()).setAside;
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
    await tx.objectStore('waiting').put({
      id,
      record: record.data,
      observationId: typeof fields.observationId === 'string' ? fields.observationId : null,
      queuedAt: now,
      attempts: 0,
      nextAttemptAt: now,
      solo: true,
      refusals: 0,
    });
    await tx.objectStore('rejected').delete(id);
    await tx.done;
    return ok(undefined);
  } catch (error) {
    return storageFailure(error);
  }
}
