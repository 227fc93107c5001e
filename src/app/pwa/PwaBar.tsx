import { promptInstall } from './pwa';
import { usePwaStore } from './pwa-store';
import { OutboxStatus } from '../feedback/OutboxStatus';
import { UpdatePrompt } from './UpdatePrompt';

/** Being offline is a state to know about, not an error: everything but sending data works. */
export function PwaBar() {
  const online = usePwaStore((s) => s.online);
  const installable = usePwaStore((s) => s.installable);
  return (
    <>
      {!online && (
        <p className="offline-badge" role="status" data-testid="offline">
          Offline: identification and history work as usual; nothing is sent until you are back
          online.
        </p>
      )}
      {installable && (
        <button type="button" className="button install" onClick={() => void promptInstall()}>
          Install app
        </button>
      )}
      <OutboxStatus />
      <UpdatePrompt />
    </>
  );
}
