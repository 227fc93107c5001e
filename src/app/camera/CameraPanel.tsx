import { useEffect, useRef, useState } from 'react';
import { appError, type AppError } from '../../core/errors';
import { takeBitmap } from '../input/intake';
import { closeCamera } from './camera-store';

/** Torch and zoom are not in every browser's typings; read them defensively. */
interface ExtraCapabilities {
  torch?: boolean;
  zoom?: { min: number; max: number; step: number };
}

/** A JPEG of the captured frame, to show beside the result and to share with a correction. */
function snapshotPreview(bitmap: ImageBitmap): Promise<Blob | null> {
  const canvas = document.createElement('canvas');
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
}

/**
 * Live preview from the rear camera with a capture button. The stream is stopped when the
 * panel closes or the page is hidden, so the camera light never stays on behind the user.
 */
export function CameraPanel() {
  const videoRef = useRef<HTMLVideoElement>(null);
  const [track, setTrack] = useState<MediaStreamTrack | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [torchOn, setTorchOn] = useState(false);
  const [zoom, setZoom] = useState<number | null>(null);

  useEffect(() => {
    let stream: MediaStream | null = null;
    let cancelled = false;
    navigator.mediaDevices
      .getUserMedia({
        video: {
          facingMode: { ideal: 'environment' },
          width: { ideal: 1920 },
          height: { ideal: 1080 },
        },
        audio: false,
      })
      .then((opened) => {
        if (cancelled) {
          opened.getTracks().forEach((t) => t.stop());
          return;
        }
        stream = opened;
        if (videoRef.current) videoRef.current.srcObject = opened;
        setTrack(opened.getVideoTracks()[0] ?? null);
      })
      .catch((reason: unknown) => {
        const denied = reason instanceof DOMException && reason.name === 'NotAllowedError';
        setError(appError(denied ? 'CAMERA_DENIED' : 'CAMERA_UNAVAILABLE', String(reason)));
      });
    const onHidden = () => {
      if (document.visibilityState === 'hidden') closeCamera();
    };
    document.addEventListener('visibilitychange', onHidden);
    return () => {
      cancelled = true;
      document.removeEventListener('visibilitychange', onHidden);
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, []);

  const capabilities = (track?.getCapabilities?.() ?? {}) as ExtraCapabilities;

  const capture = async () => {
    const video = videoRef.current;
    if (!video || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) return;
    const bitmap = await createImageBitmap(video);
    const preview = await snapshotPreview(bitmap);
    void takeBitmap(bitmap, preview);
  };

  const applyExtra = (constraint: Record<string, unknown>) =>
    track?.applyConstraints({ advanced: [constraint as MediaTrackConstraintSet] }).catch(() => {});

  return (
    <section className="camera" aria-label="Camera">
      {error ? (
        <div className="error" role="alert" data-testid="error" data-code={error.code}>
          <p>{error.message}</p>
        </div>
      ) : (
        <video
          ref={videoRef}
          autoPlay
          playsInline
          muted
          className="camera-preview"
          aria-label="Camera preview"
        />
      )}
      <div className="row">
        <button
          type="button"
          className="button primary"
          onClick={() => void capture()}
          disabled={!track}
        >
          Capture
        </button>
        {capabilities.torch && (
          <button
            type="button"
            className="button"
            aria-pressed={torchOn}
            onClick={() => {
              setTorchOn(!torchOn);
              void applyExtra({ torch: !torchOn });
            }}
          >
            Torch
          </button>
        )}
        {capabilities.zoom && (
          <label className="zoom">
            Zoom
            <input
              type="range"
              min={capabilities.zoom.min}
              max={capabilities.zoom.max}
              step={capabilities.zoom.step}
              value={zoom ?? capabilities.zoom.min}
              onChange={(event) => {
                const value = Number(event.target.value);
                setZoom(value);
                void applyExtra({ zoom: value });
              }}
            />
          </label>
        )}
        <button type="button" className="button" onClick={closeCamera}>
          Close camera
        </button>
      </div>
    </section>
  );
}
