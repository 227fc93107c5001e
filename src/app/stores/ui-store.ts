import { create } from 'zustand';

export type Screen = 'identify' | 'batch' | 'history' | 'settings';

export interface UiState {
  screen: Screen;
  cameraOpen: boolean;
}

export const useUiStore = create<UiState>()(() => ({ screen: 'identify', cameraOpen: false }));

export function showScreen(screen: Screen): void {
  useUiStore.setState({ screen });
}
