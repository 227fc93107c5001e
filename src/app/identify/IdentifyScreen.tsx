import { CameraPanel } from '../camera/CameraPanel';
import { useCameraStore } from '../camera/camera-store';
import { PhotoInputs } from '../input/PhotoInputs';
import { ResultPanel } from './ResultPanel';

export function IdentifyScreen() {
  const cameraOpen = useCameraStore((s) => s.open);
  return (
    <div className="identify">
      {cameraOpen ? <CameraPanel /> : <PhotoInputs />}
      <ResultPanel />
    </div>
  );
}
