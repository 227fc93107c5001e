import { useEffect } from 'react';
import { BatchScreen } from './components/BatchScreen';
import { HistoryNotice } from './components/HistoryNotice';
import { HistoryScreen } from './components/HistoryScreen';
import { IdentifyScreen } from './components/IdentifyScreen';
import { SettingsScreen } from './components/SettingsScreen';
import { PwaBar } from './components/PwaBar';
import { StatusBar } from './components/StatusBar';
import { filesFromDataTransfer } from './input/collect-files';
import { takeFiles } from './services/intake';
import { showScreen, useUiStore, type Screen } from './stores/ui-store';

const SCREENS: { id: Screen; label: string }[] = [
  { id: 'identify', label: 'Identify' },
  { id: 'batch', label: 'Batch' },
  { id: 'history', label: 'History' },
  { id: 'settings', label: 'Settings' },
];

/** Drops anywhere on the page and pastes (files or images on the clipboard) are photos too. */
function useDropAndPaste() {
  useEffect(() => {
    const onDragOver = (event: DragEvent) => {
      if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
    };
    const onDrop = (event: DragEvent) => {
      if (!event.dataTransfer) return;
      event.preventDefault();
      const startedAt = performance.now();
      void filesFromDataTransfer(event.dataTransfer).then((files) => takeFiles(files, startedAt));
    };
    const onPaste = (event: ClipboardEvent) => {
      const files = Array.from(event.clipboardData?.files ?? []);
      if (files.length === 0) return; // plain text paste into a field stays a text paste
      event.preventDefault();
      takeFiles(files);
    };
    window.addEventListener('dragover', onDragOver);
    window.addEventListener('drop', onDrop);
    window.addEventListener('paste', onPaste);
    return () => {
      window.removeEventListener('dragover', onDragOver);
      window.removeEventListener('drop', onDrop);
      window.removeEventListener('paste', onPaste);
    };
  }, []);
}

export function App() {
  const screen = useUiStore((s) => s.screen);
  useDropAndPaste();
  return (
    <div className="app">
      <header className="app-header">
        <h1>Field ID</h1>
        <nav aria-label="Screens">
          {SCREENS.map(({ id, label }) => (
            <button
              key={id}
              type="button"
              className="tab"
              aria-current={screen === id ? 'page' : undefined}
              onClick={() => showScreen(id)}
            >
              {label}
            </button>
          ))}
        </nav>
      </header>
      <StatusBar />
      <PwaBar />
      <HistoryNotice />
      <main>
        {screen === 'identify' && <IdentifyScreen />}
        {screen === 'batch' && <BatchScreen />}
        {screen === 'history' && <HistoryScreen />}
        {screen === 'settings' && <SettingsScreen />}
      </main>
    </div>
  );
}
