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

const { setState } = usePwaStore;

export function connectivityChanged(online: boolean): void {
  setState({ online });
}

export function updateWaiting(waiting: boolean): void {
  setState({ updateWaiting: waiting });
}

export function installOffered(installable: boolean): void {
  setState({ installable });
}

export function persistenceAnswered(persisted: boolean | null): void {
  setState({ persisted });
}
