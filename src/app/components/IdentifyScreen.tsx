import { CameraPanel } from './CameraPanel';
import { PhotoInputs } from './PhotoInputs';
import { ResultPanel } from './ResultPanel';
import { useUiStore } from '../stores/ui-store';

export function IdentifyScreen() {
  const cameraOpen = useUiStore((s) => s.cameraOpen);
  return (
    <div className="identify">
      {cameraOpen ? <CameraPanel /> : <PhotoInputs />}
      <ResultPanel />
    </div>
  );
}
