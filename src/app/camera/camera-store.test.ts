import { beforeEach, describe, expect, it } from 'vitest';
import { appError } from '../../core/errors';
import type { Classification } from '../../worker/api/protocol';
import {
  captureRequested,
  captureTaken,
  closeCamera,
  liveStopped,
  frameAnswered,
  frameFailed,
  openCamera,
  useCameraStore,
} from './camera-store';

const classification = {
  answer: { kind: 'animal', top: [] },
  warnings: ['TOO_DARK'],
  thumbnail: null,
} as unknown as Classification;

beforeEach(() => closeCamera());

describe('the camera store', () => {
  it('numbers the captures of one opening under one session id, and starts afresh on the next', () => {
    openCamera();
    const first = captureTaken('obs-1');
    const second = captureTaken(null);
    expect(first).toMatchObject({ index: 1 });
    expect(second).toEqual({ sessionId: first!.sessionId, index: 2 });
    closeCamera();
    // The closed session stays readable until the camera opens again.
    const closed = useCameraStore.getState().session!;
    expect(closed.endedAt).not.toBeNull();
    expect(closed.captures).toEqual([
      { index: 1, observationId: 'obs-1' },
      { index: 2, observationId: null },
    ]);
    openCamera();
    const next = captureTaken('obs-3');
    expect(next?.index).toBe(1);
    expect(next?.sessionId).not.toBe(first!.sessionId);
  });

  it('keeps what the overlay needs of an answer, and clears it once captured', () => {
    openCamera();
    frameAnswered(1, classification);
    expect(useCameraStore.getState().live).toMatchObject({
      state: 'answered',
      frameId: 1,
      warnings: ['TOO_DARK'],
    });
    expect(useCameraStore.getState().live).not.toHaveProperty('thumbnail');
    captureRequested();
    expect(useCameraStore.getState().captureWaiting).toBe(true);
    captureTaken('obs');
    expect(useCameraStore.getState()).toMatchObject({
      live: { state: 'waiting' },
      captureWaiting: false,
    });
  });

  it('forgets the answer on show when the preview stops', () => {
    openCamera();
    frameAnswered(1, classification);
    captureRequested();
    liveStopped();
    expect(useCameraStore.getState()).toMatchObject({
      open: true,
      live: { state: 'waiting' },
      captureWaiting: false,
    });
  });

  it('gives up a waiting capture when the frame fails', () => {
    openCamera();
    captureRequested();
    frameFailed(1, appError('MODEL_LOAD_FAILED'));
    expect(useCameraStore.getState()).toMatchObject({
      live: { state: 'failed', error: { code: 'MODEL_LOAD_FAILED' } },
      captureWaiting: false,
    });
  });

  it('ignores answers that arrive after the camera closed', () => {
    openCamera();
    closeCamera();
    frameAnswered(1, classification);
    captureRequested();
    expect(useCameraStore.getState()).toMatchObject({
      open: false,
      live: { state: 'waiting' },
      captureWaiting: false,
    });
  });
});
