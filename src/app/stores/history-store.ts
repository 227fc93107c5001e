import { create } from 'zustand';
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
import {
  historyDb,
  type AddOutcome,
  type HistoryCursor,
  type HistoryStats,
} from '../history/history-db';
import { downloadText } from '../services/download';

/**
 * The History screen's view of the on-device history: the pages loaded so far, the
 * filter, object URLs of the thumbnails on screen, storage figures and what pruning
 * removed. Plain data only; every change goes through the functions below, which are
 * also the only place that creates and revokes the thumbnail URLs.
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
  items: ObservationRecord[];
  next: HistoryCursor | null;
  filter: HistoryFilter;
  /** Object URL per record id, or null when it has no thumbnail (any more). */
  thumbnailUrls: Record<string, string | null>;
  stats: HistoryStats | null;
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
  thumbnailUrls: {},
  stats: null,
  unreadable: 0,
  pruned: NO_PRUNING,
  writeError: null,
  selectedId: null,
}));

const { getState, setState } = useHistoryStore;
/** Bumped whenever the loaded list is thrown away, so late answers are ignored. */
let generation = 0;

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function revokeUrls(urls: Iterable<string | null>): void {
  for (const url of urls) if (url) URL.revokeObjectURL(url);
}

function isOpen(): boolean {
  return getState().load.kind !== 'idle';
}

/** Throws the loaded list away; reads still on their way for it are then ignored. */
function dropLoadedList(rest: Partial<HistoryState>): void {
  generation++;
  pendingThumbnails.clear();
  revokeUrls(Object.values(getState().thumbnailUrls));
  setState({ items: [], next: null, thumbnailUrls: {}, selectedId: null, ...rest });
}

async function loadFirstPage(): Promise<void> {
  const mine = ++generation;
  revokeUrls(Object.values(getState().thumbnailUrls));
  setState({ load: { kind: 'loading' }, items: [], next: null, thumbnailUrls: {} });
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
  } catch (error) {
    if (mine === generation) setState({ load: { kind: 'error', message: message(error) } });
  }
}

/** The History screen opened: read the first page and the storage figures. */
export function openHistory(): void {
  void loadFirstPage();
  void refreshStats();
}

/** The History screen closed: let go of the list and every thumbnail URL. */
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
  } catch (error) {
    if (mine === generation) setState({ load: { kind: 'error', message: message(error) } });
  }
}

// ---- Thumbnails: requested by the entries as they render, read in one transaction ----

const pendingThumbnails = new Set<string>();
let thumbnailRead: Promise<void> | null = null;

export function requestThumbnail(id: string): void {
  if (id in getState().thumbnailUrls || pendingThumbnails.has(id)) return;
  pendingThumbnails.add(id);
  thumbnailRead ??= Promise.resolve().then(readPendingThumbnails);
}

async function readPendingThumbnails(): Promise<void> {
  const ids = [...pendingThumbnails];
  const mine = generation;
  try {
    const blobs = await historyDb.getThumbnails(ids);
    const stillShown = new Set(getState().items.map((item) => item.id));
    const urls: Record<string, string | null> = {};
    for (const id of ids) {
      if (!pendingThumbnails.has(id)) continue; // closed or deleted meanwhile
      const blob = blobs.get(id);
      urls[id] =
        blob && mine === generation && stillShown.has(id) ? URL.createObjectURL(blob) : null;
    }
    if (mine === generation) setState((s) => ({ thumbnailUrls: { ...s.thumbnailUrls, ...urls } }));
    else revokeUrls(Object.values(urls));
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
  try {
    setState({ stats: await historyDb.stats() });
  } catch {
    setState({ stats: null });
  }
}

function refreshStatsSoon(): void {
  if (!isOpen()) return;
  clearTimeout(statsTimer);
  statsTimer = setTimeout(() => void refreshStats(), STATS_REFRESH_DELAY_MS);
}

/** Takes records out of the list and revokes their thumbnail URLs. */
function forget(ids: readonly string[]): void {
  if (ids.length === 0) return;
  const gone = new Set(ids);
  for (const id of ids) pendingThumbnails.delete(id);
  setState((s) => {
    const thumbnailUrls = { ...s.thumbnailUrls };
    revokeUrls(ids.map((id) => thumbnailUrls[id] ?? null));
    for (const id of ids) delete thumbnailUrls[id];
    return {
      items: s.items.filter((item) => !gone.has(item.id)),
      thumbnailUrls,
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
    const thumbnailUrls = { ...s.thumbnailUrls };
    for (const id of outcome.pruned.dropThumbnails) {
      revokeUrls([thumbnailUrls[id] ?? null]);
      thumbnailUrls[id] = null;
    }
    // New records are the newest: they go on top, if they pass the filter.
    const fresh = outcome.added
      .filter((record) => observationMatches(record, s.filter))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1));
    return { items: [...fresh, ...s.items], thumbnailUrls };
  });
  refreshStatsSoon();
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
