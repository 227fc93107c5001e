import { create } from 'zustand';

export type Screen = 'identify' | 'batch' | 'history' | 'settings';

export interface ScreenState {
  screen: Screen;
}

export const useScreenStore = create<ScreenState>()(() => ({ screen: 'identify' }));

export function showScreen(screen: Screen): void {
  useScreenStore.setState({ screen });
}
