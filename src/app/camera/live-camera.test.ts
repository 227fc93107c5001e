import { describe, expect, it, vi } from 'vitest';
import { fail } from '../../core/errors';
import { createLiveCamera } from './live-camera';

/**
 * The live camera's hold on model reloads. Its frames and captures need a video and a DOM
 * (e2e/camera-live.spec.ts); the rhythm of its frames is tested in live-loop.test.ts.
 */

describe('the live camera', () => {
  it('holds model reloads from start to stop, once however often it is started', () => {
    const release = vi.fn();
    const holdReloads = vi.fn(() => release);
    const camera = createLiveCamera({} as HTMLVideoElement, {
      identify: async () => fail('INFERENCE_FAILED', 'no frame in this test'),
      // Hidden: no frame is grabbed, so the video is never read.
      isVisible: () => false,
      holdReloads,
    });
    camera.start();
    camera.start();
    expect(holdReloads).toHaveBeenCalledTimes(1);
    expect(release).not.toHaveBeenCalled();
    camera.stop();
    expect(release).toHaveBeenCalledTimes(1);
    camera.stop();
    expect(release).toHaveBeenCalledTimes(1);
    // Started again (back from another screen): held again.
    camera.start();
    expect(holdReloads).toHaveBeenCalledTimes(2);
    camera.stop();
  });
});
