import { BatchScreen } from '../batch/BatchScreen';
import { HistoryNotice } from '../history/HistoryNotice';
import { HistoryScreen } from '../history/HistoryScreen';
import { IdentifyScreen } from '../identify/IdentifyScreen';
import { StatusBar } from '../inference/StatusBar';
import { useDropAndPaste } from '../input/use-drop-and-paste';
import { PwaBar } from '../pwa/PwaBar';
import { SettingsScreen } from '../settings/SettingsScreen';
import { showScreen, useScreenStore, type Screen } from './screen-store';

const SCREENS: { id: Screen; label: string }[] = [
  { id: 'identify', label: 'Identify' },
  { id: 'batch', label: 'Batch' },
  { id: 'history', label: 'History' },
  { id: 'settings', label: 'Settings' },
];

export function App() {
  const screen = useScreenStore((s) => s.screen);
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
