import { create } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import { observationColumns, toObservationExport } from '../../core/history-export';
import {
  NO_HISTORY_FILTER,
  addPruneCounts,
  observationMatches,
  pruneCounts,
  type HistoryFilter,
  type ObservationRecord,
  type PruneCounts,
  type Verdict,
} from '../../core/history-policy';
import { toCsv, toJson } from '../../core/results-export';
import { downloadText } from '../ui/download';
import {
  historyDb,
  type AddOutcome,
  type BatchInfo,
  type HistoryCursor,
  type HistoryStats,
} from './history-db';
import type { HistoryRecord } from './history-record';

/**
 * The History screen's view of the on-device history: the pages loaded so far, the
 * filter, the thumbnails read for the entries on screen, storage figures and what pruning
 * removed. Every change goes through the functions below. The thumbnails are the stored
 * blobs; the elements that show them own their object URLs.
 */

export type HistoryLoad =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'ready'; complete: boolean }
  | { kind: 'loading-more' }
  | { kind: 'error'; message: string };

export interface HistoryState {
  load: HistoryLoad;
  /** Newest first; only the pages loaded so far. */
  items: HistoryRecord[];
  next: HistoryCursor | null;
  filter: HistoryFilter;
  /** Thumbnail per record id, or null when it has none (any more); absent: not read yet. */
  thumbnails: Record<string, Blob | null>;
  stats: HistoryStats | null;
  /** Size and time of the batches in the list, as stored (a filter may show fewer). */
  batches: Record<string, BatchInfo>;
  /** Stored rows that could not be read back and were skipped. */
  unreadable: number;
  /** Removed by pruning since the user last dismissed the notice. */
  pruned: PruneCounts;
  /** The last failed write (storage full, private browsing), for the user to see. */
  writeError: string | null;
  selectedId: string | null;
}

/** Enough to fill a phone screen several times; more come with "Show more". */
export const HISTORY_PAGE_SIZE = 60;
const STATS_REFRESH_DELAY_MS = 500;
const NO_PRUNING: PruneCounts = { thumbnailsDropped: 0, entriesDeleted: 0 };

export const useHistoryStore = create<HistoryState>()(() => ({
  load: { kind: 'idle' },
  items: [],
  next: null,
  filter: NO_HISTORY_FILTER,
  thumbnails: {},
  stats: null,
  batches: {},
  unreadable: 0,
  pruned: NO_PRUNING,
  writeError: null,
  selectedId: null,
}));

/** What the list on the History screen renders, re-rendering only when one of these changes. */
export function useHistoryList() {
  return useHistoryStore(
    useShallow((s) => ({
      load: s.load,
      items: s.items,
      thumbnails: s.thumbnails,
      batches: s.batches,
      filter: s.filter,
      total: s.stats?.entries ?? null,
    })),
  );
}

const { getState, setState } = useHistoryStore;
/** Bumped whenever the loaded list is thrown away, so late answers are ignored. */
let generation = 0;

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function isOpen(): boolean {
  return getState().load.kind !== 'idle';
}

/** Throws the loaded list away; reads still on their way for it are then ignored. */
function dropLoadedList(rest: Partial<HistoryState>): void {
  generation++;
  pendingThumbnails.clear();
  setState({ items: [], next: null, thumbnails: {}, batches: {}, selectedId: null, ...rest });
}

async function loadFirstPage(): Promise<void> {
  const mine = ++generation;
  setState({ load: { kind: 'loading' }, items: [], next: null, thumbnails: {} });
  try {
    const page = await historyDb.listObservations({
      limit: HISTORY_PAGE_SIZE,
      filter: getState().filter,
    });
    if (mine !== generation) return;
    setState({
      load: { kind: 'ready', complete: page.next === null },
      items: page.items,
      next: page.next,
      unreadable: page.unreadable,
    });
    void refreshBatches(page.items);
  } catch (error) {
    if (mine === generation) setState({ load: { kind: 'error', message: message(error) } });
  }
}

/** The History screen opened: read the first page and the storage figures. */
export function openHistory(): void {
  void loadFirstPage();
  void refreshStats();
}

/** The History screen closed: let go of the list and every thumbnail. */
export function closeHistory(): void {
  dropLoadedList({ load: { kind: 'idle' } });
}

export function setHistoryFilter(filter: Partial<HistoryFilter>): void {
  setState((s) => ({ filter: { ...s.filter, ...filter } }));
  if (isOpen()) void loadFirstPage();
}

export async function loadMoreHistory(): Promise<void> {
  const { load, next, filter } = getState();
  if (load.kind !== 'ready' || next === null) return;
  const mine = generation;
  setState({ load: { kind: 'loading-more' } });
  try {
    const page = await historyDb.listObservations({
      after: next,
      limit: HISTORY_PAGE_SIZE,
      filter,
    });
    if (mine !== generation) return;
    setState((s) => {
      const known = new Set(s.items.map((item) => item.id));
      return {
        load: { kind: 'ready', complete: page.next === null },
        items: [...s.items, ...page.items.filter((item) => !known.has(item.id))],
        next: page.next,
        unreadable: s.unreadable + page.unreadable,
      };
    });
    void refreshBatches(page.items);
  } catch (error) {
    if (mine === generation) setState({ load: { kind: 'error', message: message(error) } });
  }
}

// ---- Thumbnails: requested by the entries as they render, read in one transaction ----

const pendingThumbnails = new Set<string>();
let thumbnailRead: Promise<void> | null = null;

export function requestThumbnail(id: string): void {
  if (id in getState().thumbnails || pendingThumbnails.has(id)) return;
  pendingThumbnails.add(id);
  thumbnailRead ??= Promise.resolve().then(readPendingThumbnails);
}

async function readPendingThumbnails(): Promise<void> {
  const ids = [...pendingThumbnails];
  const mine = generation;
  try {
    const blobs = await historyDb.getThumbnails(ids);
    const stillShown = new Set(getState().items.map((item) => item.id));
    const read: Record<string, Blob | null> = {};
    for (const id of ids) {
      // Closed, deleted or scrolled out of the list meanwhile: nothing to show it in.
      if (!pendingThumbnails.has(id) || !stillShown.has(id)) continue;
      read[id] = blobs.get(id) ?? null;
    }
    if (mine === generation) setState((s) => ({ thumbnails: { ...s.thumbnails, ...read } }));
  } catch {
    // Shown as placeholders; the next opening of the screen tries again.
  } finally {
    for (const id of ids) pendingThumbnails.delete(id);
    thumbnailRead = null;
    if (pendingThumbnails.size > 0) thumbnailRead = Promise.resolve().then(readPendingThumbnails);
  }
}

// ---- Changes -------------------------------------------------------------------------

let statsTimer: ReturnType<typeof setTimeout> | undefined;

async function refreshStats(): Promise<void> {
  clearTimeout(statsTimer);
  void refreshBatches(getState().items);
  try {
    setState({ stats: await historyDb.stats() });
  } catch {
    setState({ stats: null });
  }
}

/** Reads what is stored of the batches of `records` (a running batch grows; pruning cuts). */
async function refreshBatches(records: readonly HistoryRecord[]): Promise<void> {
  const ids = [...new Set(records.flatMap((record) => record.batchId ?? []))];
  if (ids.length === 0) return;
  const mine = generation;
  try {
    const found = await historyDb.batchInfo(ids);
    if (mine !== generation) return;
    setState((s) => {
      const batches = { ...s.batches };
      for (const id of ids) {
        const info = found.get(id);
        if (info) batches[id] = info;
        else delete batches[id];
      }
      return { batches };
    });
  } catch {
    // The group then counts the records it shows; the next refresh tries again.
  }
}

function refreshStatsSoon(): void {
  if (!isOpen()) return;
  clearTimeout(statsTimer);
  statsTimer = setTimeout(() => void refreshStats(), STATS_REFRESH_DELAY_MS);
}

/** Takes records and their thumbnails out of the list. */
function forget(ids: readonly string[]): void {
  if (ids.length === 0) return;
  const gone = new Set(ids);
  for (const id of ids) pendingThumbnails.delete(id);
  setState((s) => {
    const thumbnails = { ...s.thumbnails };
    for (const id of ids) delete thumbnails[id];
    return {
      items: s.items.filter((item) => !gone.has(item.id)),
      thumbnails,
      selectedId: s.selectedId !== null && gone.has(s.selectedId) ? null : s.selectedId,
    };
  });
}

/** Called by the recorder after each write. */
export function historyRecorded(outcome: AddOutcome): void {
  const counts = pruneCounts(outcome.pruned);
  if (counts.entriesDeleted > 0 || counts.thumbnailsDropped > 0) {
    setState((s) => ({ pruned: addPruneCounts(s.pruned, counts) }));
  }
  setState({ writeError: null });
  if (!isOpen()) return;
  if (getState().load.kind === 'loading') {
    // The page being read may predate this write: read it again rather than guess.
    void loadFirstPage();
    refreshStatsSoon();
    return;
  }
  forget(outcome.pruned.deleteEntries);
  setState((s) => {
    const thumbnails = { ...s.thumbnails };
    for (const id of outcome.pruned.dropThumbnails) thumbnails[id] = null;
    // New records are the newest: they go on top, if they pass the filter.
    const fresh = outcome.added
      .filter((record) => observationMatches(record, s.filter))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    return { items: [...fresh, ...s.items], thumbnails };
  });
  refreshStatsSoon();
}

/** Records written a moment ago got their location: shown if they are in the list. */
export function historyLocated(records: readonly ObservationRecord[]): void {
  const byId = new Map(records.map((record) => [record.id, record]));
  // Spread over the listed record, so that a record without context keeps the listed one's.
  setState((s) => ({
    items: s.items.map((item) => {
      const located = byId.get(item.id);
      return located ? { ...item, ...located } : item;
    }),
  }));
}

export function historyWriteFailed(error: unknown): void {
  setState({
    writeError: `This identification could not be saved to the history (${message(error)}).`,
  });
}

export function dismissHistoryNotice(): void {
  setState({ pruned: NO_PRUNING, writeError: null });
}

export function selectObservation(id: string | null): void {
  setState({ selectedId: id });
}

/** Records the user's verdict (feedback screen) and shows it in the loaded list. */
export async function setObservationVerdict(id: string, verdict: Verdict | null): Promise<boolean> {
  const updated = await historyDb.updateVerdict(id, verdict);
  if (updated === null) return false;
  setState((s) => ({ items: s.items.map((item) => (item.id === id ? updated : item)) }));
  return true;
}

export async function deleteObservation(id: string): Promise<void> {
  await historyDb.deleteObservation(id);
  forget([id]);
  void refreshStats();
}

/** "Remove batch": every record of the batch, also those a filter hides or not loaded yet. */
export async function deleteBatch(batchId: string): Promise<number> {
  const ids = await historyDb.deleteBatch(batchId);
  forget(ids);
  setState((s) => {
    const batches = { ...s.batches };
    delete batches[batchId];
    return { batches };
  });
  void refreshStats();
  return ids.length;
}

export async function deleteAllHistory(): Promise<void> {
  await historyDb.clearHistory();
  dropLoadedList({
    unreadable: 0,
    load: isOpen() ? { kind: 'ready', complete: true } : { kind: 'idle' },
  });
  void refreshStats();
}

/** Downloads every observation that passes the current filter (all, without one). */
export async function exportHistory(format: 'csv' | 'json'): Promise<number> {
  const records = await historyDb.exportAll(getState().filter);
  const day = new Date().toISOString().slice(0, 10);
  if (format === 'csv') {
    downloadText(
      toCsv(records, observationColumns, { bom: true }),
      'text/csv',
      `fieldid-history-${day}.csv`,
    );
  } else {
    downloadText(
      toJson(records.map(toObservationExport)),
      'application/json',
      `fieldid-history-${day}.json`,
    );
  }
  return records.length;
}
