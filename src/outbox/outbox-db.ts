import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { z } from 'zod';
import { feedbackRecordSchema, type FeedbackRecord } from '../core/feedback';

/**
 * The feedback outbox in IndexedDB, shared by the page (which adds verdicts and sends
 * when online) and the service worker (which sends on Background Sync). Records the
 * server refused for good are kept aside with the reason instead of being retried.
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
}

export interface RejectedRecord {
  id: string;
  record: FeedbackRecord;
  code: string;
  rejectedAt: number;
}

interface OutboxSchema extends DBSchema {
  waiting: {
    key: string;
    value: WaitingRecord;
    indexes: { byQueuedAt: number; byObservation: string };
  };
  rejected: { key: string; value: RejectedRecord };
}

export const OUTBOX_DB_NAME = 'fieldid-outbox';

let opened: Promise<IDBPDatabase<OutboxSchema>> | null = null;

function db(): Promise<IDBPDatabase<OutboxSchema>> {
  opened ??= openDB<OutboxSchema>(OUTBOX_DB_NAME, 1, {
    upgrade(database) {
      const waiting = database.createObjectStore('waiting', { keyPath: 'id' });
      waiting.createIndex('byQueuedAt', 'queuedAt');
      waiting.createIndex('byObservation', 'observationId');
      database.createObjectStore('rejected', { keyPath: 'id' });
    },
  });
  return opened;
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
  })
  // The server answers by record id: a row keyed otherwise would never be marked sent.
  .refine((row) => row.id === row.record.id);

/**
 * Stored rows are re-checked on the way out, the whole row and not only the record: a
 * damaged row is dropped, never sent (nor left to wait for ever with no due time).
 */
function restore(row: unknown): WaitingRecord | null {
  const parsed = waitingRowSchema.safeParse(row);
  return parsed.success ? parsed.data : null;
}

export async function enqueue(
  record: FeedbackRecord,
  observationId: string | null,
  now: number,
): Promise<void> {
  const database = await db();
  const tx = database.transaction('waiting', 'readwrite');
  if (observationId !== null) {
    for (const older of await tx.store.index('byObservation').getAll(observationId)) {
      await tx.store.delete(older.id);
    }
  }
  await tx.store.put({
    id: record.id,
    record,
    observationId,
    queuedAt: now,
    attempts: 0,
    nextAttemptAt: now,
    solo: false,
  });
  await tx.done;
}

export async function dueRecords(now: number): Promise<WaitingRecord[]> {
  // The whole store, not the byQueuedAt index: a row without a valid queuedAt is missing
  // from the index, and would never be seen (nor dropped).
  const tx = (await db()).transaction('waiting', 'readwrite');
  const due: WaitingRecord[] = [];
  for (let cursor = await tx.store.openCursor(); cursor; cursor = await cursor.continue()) {
    const restored = restore(cursor.value);
    if (restored === null) await cursor.delete();
    else if (restored.nextAttemptAt <= now) due.push(restored);
  }
  await tx.done;
  return due.sort((a, b) => a.queuedAt - b.queuedAt);
}

export async function removeWaiting(ids: readonly string[]): Promise<void> {
  const tx = (await db()).transaction('waiting', 'readwrite');
  await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
}

export async function setAside(
  rejected: readonly { id: string; code: string }[],
  now: number,
): Promise<void> {
  const tx = (await db()).transaction(['waiting', 'rejected'], 'readwrite');
  for (const { id, code } of rejected) {
    const row = await tx.objectStore('waiting').get(id);
    if (row === undefined) continue;
    await tx.objectStore('rejected').put({ id, record: row.record, code, rejectedAt: now });
    await tx.objectStore('waiting').delete(id);
  }
  await tx.done;
}

export async function reschedule(
  ids: readonly string[],
  delayFor: (attempts: number) => number,
  now: number,
): Promise<void> {
  const tx = (await db()).transaction('waiting', 'readwrite');
  for (const id of ids) {
    const row = await tx.store.get(id);
    if (row === undefined) continue;
    await tx.store.put({
      ...row,
      attempts: row.attempts + 1,
      nextAttemptAt: now + delayFor(row.attempts),
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

export async function outboxCounts(): Promise<{
  waiting: number;
  rejected: number;
  nextAttemptAt: number | null;
}> {
  const database = await db();
  const rows = await database.getAll('waiting');
  return {
    waiting: rows.length,
    rejected: await database.count('rejected'),
    nextAttemptAt: rows.length === 0 ? null : Math.min(...rows.map((r) => r.nextAttemptAt)),
  };
}

export async function rejectedRecords(): Promise<RejectedRecord[]> {
  return (await db()).getAll('rejected');
}
