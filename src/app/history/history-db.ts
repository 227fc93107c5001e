import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction } from 'idb';
import {
  DEFAULT_HISTORY_LIMITS,
  EMPTY_PRUNE_PLAN,
  coarsenLocation,
  compareOldestFirst,
  observationMatches,
  observationSchema,
  planPrune,
  pruneWindow,
  verdictSchema,
  type CoarseLocation,
  type HistoryFilter,
  type HistoryLimits,
  type PruneCandidate,
  type PrunePlan,
  type Verdict,
} from '../../core/history-policy';
import {
  restoreHistoryRecord,
  toStoredRecord,
  type HistoryRecord,
  type HistoryRecordInput,
} from './history-record';

/**
 * The history on the device, in IndexedDB (database "fieldid"): observation records in
 * one object store, their thumbnails in another, so that dropping thumbnails first is a
 * cheap delete and listing records never reads an image. Everything read back goes
 * through `restoreHistoryRecord`; limits are enforced in the transaction that adds.
 */

export const HISTORY_DB_NAME = 'fieldid';

/** A thumbnail with what pruning needs to find the oldest ones without reading records. */
export interface StoredThumbnail {
  id: string;
  createdAt: number;
  bytes: number;
  blob: Blob;
}

/** [createdAt, id]: unique, so a page ends at an exact key even when times are equal. */
type TimeKey = [number, string];
/** [batchId, createdAt]: a photo identified on its own has no batch id and is not in it. */
type BatchKey = [string, number];

interface HistorySchema extends DBSchema {
  observations: {
    key: string;
    value: HistoryRecord;
    indexes: { 'by-time': TimeKey; 'by-batch': BatchKey };
  };
  thumbnails: { key: string; value: StoredThumbnail; indexes: { 'by-time': TimeKey } };
}

type HistoryDatabase = IDBPDatabase<HistorySchema>;
type WriteTransaction = IDBPTransaction<
  HistorySchema,
  ('observations' | 'thumbnails')[],
  'readwrite'
>;

type UpgradeTransaction = IDBPTransaction<
  HistorySchema,
  ('observations' | 'thumbnails')[],
  'versionchange'
>;

/**
 * One step per database version, run in order from the version found on the device.
 * A later feature that needs a store in "fieldid" (the feedback outbox) adds a step here
 * and raises the version; steps already shipped never change.
 */
const UPGRADES: ((db: HistoryDatabase, tx: UpgradeTransaction) => void)[] = [
  (db) => {
    const observations = db.createObjectStore('observations', { keyPath: 'id' });
    observations.createIndex('by-time', ['createdAt', 'id']);
    const thumbnails = db.createObjectStore('thumbnails', { keyPath: 'id' });
    thumbnails.createIndex('by-time', ['createdAt', 'id']);
  },
  // Version 2: batches, so that one is counted and removed without reading the history.
  // Rows stored before have no batch id and stay out of the index.
  (_db, tx) => {
    tx.objectStore('observations').createIndex('by-batch', ['batchId', 'createdAt']);
  },
];
export const HISTORY_DB_VERSION = UPGRADES.length;

export interface NewObservation {
  record: HistoryRecordInput;
  thumbnail: Blob | null;
}

export interface AddOutcome {
  /** The records stored (invalid ones are refused before the write). */
  added: HistoryRecord[];
  /** Ids whose thumbnail was not stored (too large, empty). */
  thumbnailsRefused: string[];
  pruned: PrunePlan;
}

/** Where the next page starts: the index key of the last record of this one. */
export interface HistoryCursor {
  readonly key: IDBValidKey;
}

export interface HistoryPage {
  /** A page never ends inside a run of one batch's records: the run comes whole. */
  items: HistoryRecord[];
  /** Null when the list is complete. */
  next: HistoryCursor | null;
  /** Rows that could not be restored (skipped, left for "Delete all"). */
  unreadable: number;
}

export interface ListOptions {
  after?: HistoryCursor | null;
  limit: number;
  filter?: HistoryFilter;
}

export interface HistoryStats {
  entries: number;
  thumbnails: number;
  thumbnailBytes: number;
}

/** A batch as stored, whatever a filter shows of it. */
export interface BatchInfo {
  count: number;
  /** Times of its first and last records (the time the batch ran). */
  firstAt: number;
  lastAt: number;
}

export interface HistoryDb {
  addObservation(record: HistoryRecordInput, thumbnail: Blob | null): Promise<AddOutcome>;
  /** Several records in one transaction: what a batch flush uses. */
  addObservations(items: readonly NewObservation[]): Promise<AddOutcome>;
  /** Newest first, `limit` at a time; with a filter, only matching records count. */
  listObservations(options: ListOptions): Promise<HistoryPage>;
  getObservation(id: string): Promise<HistoryRecord | null>;
  deleteObservation(id: string): Promise<void>;
  /** Every record of the batch and their thumbnails, in one transaction; returns their ids. */
  deleteBatch(batchId: string): Promise<string[]>;
  /** Size and time of each batch asked for; batches with no record left are left out. */
  batchInfo(batchIds: readonly string[]): Promise<Map<string, BatchInfo>>;
  clearHistory(): Promise<void>;
  /**
   * Sets (or clears, with null) the user's verdict; null when there is no such record.
   * A verdict that breaks the schema is a programming error and throws.
   */
  updateVerdict(id: string, verdict: Verdict | null): Promise<HistoryRecord | null>;
  /**
   * Adds a location (rounded again here) to the records that have none, in one
   * transaction; returns the records it changed. Ids that are gone are skipped.
   */
  addLocation(ids: readonly string[], location: CoarseLocation): Promise<HistoryRecord[]>;
  getThumbnail(id: string): Promise<Blob | null>;
  /** Thumbnails for many records in one transaction; missing ones are left out. */
  getThumbnails(ids: readonly string[]): Promise<Map<string, Blob>>;
  /** Every readable record (or every one matching `filter`), newest first. */
  exportAll(filter?: HistoryFilter): Promise<HistoryRecord[]>;
  stats(): Promise<HistoryStats>;
  close(): void;
}

export interface HistoryDbOptions {
  name?: string;
  limits?: HistoryLimits;
}

function isTimeKey(key: IDBValidKey): key is TimeKey {
  return Array.isArray(key) && typeof key[1] === 'string';
}

/** Ordering facts from an index key; a damaged time sorts as newest, as IndexedDB does. */
function candidateFromKey(key: IDBValidKey, id: string): Pick<PruneCandidate, 'id' | 'createdAt'> {
  const time = isTimeKey(key) ? key[0] : null;
  return { id, createdAt: typeof time === 'number' ? time : Number.POSITIVE_INFINITY };
}

function storedBlob(value: unknown): Blob | null {
  if (typeof value !== 'object' || value === null) return null;
  const blob = (value as Partial<StoredThumbnail>).blob;
  return blob instanceof Blob ? blob : null;
}

export function createHistoryDb(options: HistoryDbOptions = {}): HistoryDb {
  const name = options.name ?? HISTORY_DB_NAME;
  const limits = options.limits ?? DEFAULT_HISTORY_LIMITS;
  let opening: Promise<HistoryDatabase> | null = null;

  function open(): Promise<HistoryDatabase> {
    opening ??= openDB<HistorySchema>(name, HISTORY_DB_VERSION, {
      upgrade(db, oldVersion, _newVersion, tx) {
        for (const step of UPGRADES.slice(oldVersion)) step(db, tx);
      },
      // Another tab runs a newer version: let it upgrade, and reopen on the next call.
      blocking(_current, _blocked, event) {
        (event.target as IDBDatabase).close();
        opening = null;
      },
      terminated() {
        opening = null;
      },
    }).catch((error: unknown) => {
      opening = null;
      throw error;
    });
    return opening;
  }

  /** Reads only the oldest rows that pruning needs, then deletes what `planPrune` decides. */
  async function prune(tx: WriteTransaction): Promise<PrunePlan> {
    const observations = tx.objectStore('observations');
    const thumbnails = tx.objectStore('thumbnails');
    const totals = { entries: await observations.count(), thumbnails: await thumbnails.count() };
    const window = pruneWindow(totals, limits);
    if (window.entries === 0 && window.thumbnails === 0) return EMPTY_PRUNE_PLAN;

    const candidates: PruneCandidate[] = [];
    let entry = await observations.index('by-time').openKeyCursor();
    for (let n = 0; entry && n < window.entries; n++) {
      candidates.push({
        ...candidateFromKey(entry.key, entry.primaryKey),
        hasThumbnail: false,
        thumbnailBytes: 0,
      });
      entry = await entry.continue();
    }
    let thumbnail = await thumbnails.index('by-time').openCursor();
    for (let n = 0; thumbnail && n < window.thumbnails; n++) {
      const bytes = storedBlob(thumbnail.value)?.size ?? 0;
      candidates.push({
        ...candidateFromKey(thumbnail.key, thumbnail.primaryKey),
        hasThumbnail: true,
        thumbnailBytes: bytes,
      });
      thumbnail = await thumbnail.continue();
    }

    const plan = planPrune(candidates, limits, totals);
    await Promise.all([
      ...plan.deleteEntries.flatMap((id) => [observations.delete(id), thumbnails.delete(id)]),
      ...plan.dropThumbnails.map((id) => thumbnails.delete(id)),
    ]);
    return plan;
  }

  async function addObservations(items: readonly NewObservation[]): Promise<AddOutcome> {
    const valid = items
      .filter((item) => observationSchema.safeParse(item.record).success)
      .map((item) => ({ record: toStoredRecord(item.record), thumbnail: item.thumbnail }));
    if (valid.length === 0) {
      return { added: [], thumbnailsRefused: [], pruned: EMPTY_PRUNE_PLAN };
    }
    const db = await open();
    const tx = db.transaction(['observations', 'thumbnails'], 'readwrite');
    const observations = tx.objectStore('observations');
    const thumbnails = tx.objectStore('thumbnails');
    const thumbnailsRefused: string[] = [];
    const writes: Promise<unknown>[] = [];
    for (const { record, thumbnail } of valid) {
      writes.push(observations.put(record));
      if (thumbnail && thumbnail.size > 0 && thumbnail.size <= limits.maxThumbnailBytes) {
        writes.push(
          thumbnails.put({
            id: record.id,
            createdAt: record.createdAt,
            bytes: thumbnail.size,
            blob: thumbnail,
          }),
        );
      } else {
        // A re-recorded id must not keep an older image.
        writes.push(thumbnails.delete(record.id));
        if (thumbnail) thumbnailsRefused.push(record.id);
      }
    }
    await Promise.all(writes);
    const pruned = await prune(tx);
    await tx.done;
    return {
      added: valid.map((item) => item.record),
      thumbnailsRefused,
      pruned,
    };
  }

  async function listObservations({ after, limit, filter }: ListOptions): Promise<HistoryPage> {
    const db = await open();
    const tx = db.transaction('observations');
    const range = after ? IDBKeyRange.upperBound(after.key, true) : null;
    const pageSize = Math.max(1, Math.floor(limit));
    let cursor = await tx.store.index('by-time').openCursor(range, 'prev');
    const items: HistoryRecord[] = [];
    let unreadable = 0;
    /** Once the page is full: the batch whose run it finishes, and the last key it took. */
    let finishing: { batchId: string | null; key: IDBValidKey } | null = null;
    while (cursor) {
      const record = restoreHistoryRecord(cursor.value);
      if (finishing !== null && (record === null || record.batchId !== finishing.batchId)) {
        // Not taken: the next page starts with this row.
        return { items, next: { key: finishing.key }, unreadable };
      }
      if (record === null) unreadable++;
      else if (!filter || observationMatches(record, filter)) items.push(record);
      if (finishing !== null) finishing.key = cursor.key;
      else if (items.length >= pageSize) {
        const batchId = items.at(-1)!.batchId;
        // A photo on its own ends the page at once, as it always has.
        if (batchId === null) return { items, next: { key: cursor.key }, unreadable };
        finishing = { batchId, key: cursor.key };
      }
      cursor = await cursor.continue();
    }
    return { items, next: null, unreadable };
  }

  async function getObservation(id: string): Promise<HistoryRecord | null> {
    const db = await open();
    return restoreHistoryRecord(await db.get('observations', id));
  }

  async function deleteObservation(id: string): Promise<void> {
    const db = await open();
    const tx = db.transaction(['observations', 'thumbnails'], 'readwrite');
    await Promise.all([
      tx.objectStore('observations').delete(id),
      tx.objectStore('thumbnails').delete(id),
      tx.done,
    ]);
  }

  function batchRange(batchId: string): IDBKeyRange {
    return IDBKeyRange.bound([batchId, -Infinity], [batchId, Infinity]);
  }

  async function deleteBatch(batchId: string): Promise<string[]> {
    const db = await open();
    const tx = db.transaction(['observations', 'thumbnails'], 'readwrite');
    const observations = tx.objectStore('observations');
    const thumbnails = tx.objectStore('thumbnails');
    const ids = await observations.index('by-batch').getAllKeys(batchRange(batchId));
    await Promise.all([
      ...ids.flatMap((id) => [observations.delete(id), thumbnails.delete(id)]),
      tx.done,
    ]);
    return ids;
  }

  async function batchInfo(batchIds: readonly string[]): Promise<Map<string, BatchInfo>> {
    const found = new Map<string, BatchInfo>();
    if (batchIds.length === 0) return found;
    const db = await open();
    const index = db.transaction('observations').store.index('by-batch');
    const timeOf = (key: IDBValidKey | undefined) =>
      Array.isArray(key) && typeof key[1] === 'number' ? key[1] : 0;
    await Promise.all(
      [...new Set(batchIds)].map(async (batchId) => {
        const range = batchRange(batchId);
        const [count, first, last] = await Promise.all([
          index.count(range),
          index.openKeyCursor(range, 'next'),
          index.openKeyCursor(range, 'prev'),
        ]);
        if (count > 0) {
          found.set(batchId, { count, firstAt: timeOf(first?.key), lastAt: timeOf(last?.key) });
        }
      }),
    );
    return found;
  }

  async function clearHistory(): Promise<void> {
    const db = await open();
    const tx = db.transaction(['observations', 'thumbnails'], 'readwrite');
    await Promise.all([
      tx.objectStore('observations').clear(),
      tx.objectStore('thumbnails').clear(),
      tx.done,
    ]);
  }

  async function updateVerdict(id: string, verdict: Verdict | null): Promise<HistoryRecord | null> {
    const checked = verdict === null ? null : verdictSchema.parse(verdict);
    const db = await open();
    const tx = db.transaction('observations', 'readwrite');
    const record = restoreHistoryRecord(await tx.store.get(id));
    if (record === null) {
      await tx.done;
      return null;
    }
    const updated: HistoryRecord = { ...record, verdict: checked };
    await tx.store.put(updated);
    await tx.done;
    return updated;
  }

  async function addLocation(
    ids: readonly string[],
    location: CoarseLocation,
  ): Promise<HistoryRecord[]> {
    const coarse = coarsenLocation(location.lat, location.lon);
    if (coarse === null || ids.length === 0) return [];
    const db = await open();
    const tx = db.transaction('observations', 'readwrite');
    const updated: HistoryRecord[] = [];
    for (const id of ids) {
      const record = restoreHistoryRecord(await tx.store.get(id));
      if (record === null || record.location !== null) continue;
      const located: HistoryRecord = { ...record, location: coarse };
      await tx.store.put(located);
      updated.push(located);
    }
    await tx.done;
    return updated;
  }

  async function getThumbnail(id: string): Promise<Blob | null> {
    const db = await open();
    return storedBlob(await db.get('thumbnails', id));
  }

  async function getThumbnails(ids: readonly string[]): Promise<Map<string, Blob>> {
    const found = new Map<string, Blob>();
    if (ids.length === 0) return found;
    const db = await open();
    const tx = db.transaction('thumbnails');
    const values = await Promise.all(ids.map((id) => tx.store.get(id)));
    await tx.done;
    ids.forEach((id, i) => {
      const blob = storedBlob(values[i]);
      if (blob) found.set(id, blob);
    });
    return found;
  }

  async function exportAll(filter?: HistoryFilter): Promise<HistoryRecord[]> {
    const db = await open();
    // One getAll is far quicker than a cursor step per record; rows missing from the
    // time index (a damaged time) are included too.
    const records = (await db.getAll('observations')).flatMap(
      (raw) => restoreHistoryRecord(raw) ?? [],
    );
    return records
      .filter((record) => !filter || observationMatches(record, filter))
      .sort((a, b) => compareOldestFirst(b, a));
  }

  async function stats(): Promise<HistoryStats> {
    const db = await open();
    const tx = db.transaction(['observations', 'thumbnails']);
    const [entries, stored] = await Promise.all([
      tx.objectStore('observations').count(),
      tx.objectStore('thumbnails').getAll(),
      tx.done,
    ]);
    const thumbnailBytes = stored.reduce((sum, value) => sum + (storedBlob(value)?.size ?? 0), 0);
    return { entries, thumbnails: stored.length, thumbnailBytes };
  }

  return {
    addObservation: (record, thumbnail) => addObservations([{ record, thumbnail }]),
    addObservations,
    listObservations,
    getObservation,
    deleteObservation,
    deleteBatch,
    batchInfo,
    clearHistory,
    updateVerdict,
    addLocation,
    getThumbnail,
    getThumbnails,
    exportAll,
    stats,
    close() {
      const pending = opening;
      opening = null;
      void pending?.then((db) => db.close()).catch(() => {});
    },
  };
}

/** The app's history; the database opens on first use, not on import. */
export const historyDb: HistoryDb = createHistoryDb();
