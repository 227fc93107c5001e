import { create } from 'zustand';

/** The installed-app side of things: connectivity, a waiting update, the install prompt. */
export interface PwaState {
  online: boolean;
  updateWaiting: boolean;
  installable: boolean;
  /** What the browser answered to navigator.storage.persist(), once asked. */
  persisted: boolean | null;
}

export const usePwaStore = create<PwaState>()(() => ({
  online: typeof navigator === 'undefined' ? true : navigator.onLine,
  updateWaiting: false,
  installable: false,
  persisted: null,
}));
