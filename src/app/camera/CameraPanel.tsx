import { useEffect, useRef, useState } from 'react';
import { appError, type AppError } from '../../core/errors';
import { identifySameAnimal } from '../identify/identify-flow';
import { closeCamera, useCameraStore } from './camera-store';
import { createLiveCamera, type LiveCamera } from './live-camera';
import { LiveAnswer } from './LiveAnswer';
import './camera.css';

/** Torch and zoom are not in every browser's typings; read them defensively. */
interface ExtraCapabilities {
  torch?: boolean;
  zoom?: { min: number; max: number; step: number };
}

/**
 * Live preview from the rear camera, identified as it runs, with a capture button. The
 * stream and the identification stop when the panel closes or the page is hidden, so the
 * camera light never stays on behind the user and no frame is identified unseen.
 */
export function CameraPanel() {
  const videoRef = useRef<HTMLVideoElement>(null);
  const liveRef = useRef<LiveCamera | null>(null);
  const [track, setTrack] = useState<MediaStreamTrack | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [torchOn, setTorchOn] = useState(false);
  const [zoom, setZoom] = useState<number | null>(null);
  const captureCount = useCameraStore((s) => (s.open ? (s.session?.captures.length ?? 0) : 0));

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

  useEffect(() => {
    const video = videoRef.current;
    if (track === null || video === null) return;
    const live = createLiveCamera(video);
    liveRef.current = live;
    live.start();
    return () => {
      live.stop();
      liveRef.current = null;
    };
  }, [track]);

  const capabilities = (track?.getCapabilities?.() ?? {}) as ExtraCapabilities;

  const applyExtra = (constraint: Record<string, unknown>) =>
    track?.applyConstraints({ advanced: [constraint as MediaTrackConstraintSet] }).catch(() => {});

  return (
    <section className="camera" aria-label="Camera">
      {error ? (
        <div className="error" role="alert" data-testid="error" data-code={error.code}>
          <p>{error.message}</p>
        </div>
      ) : (
        <div className="camera-view">
          <video
            ref={videoRef}
            autoPlay
            playsInline
            muted
            className="camera-preview"
            aria-label="Camera preview"
          />
          {track && <LiveAnswer />}
        </div>
      )}
      <div className="row">
        <button
          type="button"
          className="button primary"
          onClick={() => void liveRef.current?.capture()}
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
        {captureCount >= 2 && (
          <button
            type="button"
            className="button"
            onClick={() => {
              const photos = liveRef.current?.captures() ?? [];
              if (photos.length >= 2) void identifySameAnimal(photos);
            }}
          >
            One animal: combine the {captureCount} captures
          </button>
        )}
        <button type="button" className="button" onClick={closeCamera}>
          Close camera
        </button>
      </div>
    </section>
  );
}
