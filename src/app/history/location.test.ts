import { afterEach, describe, expect, it, vi } from 'vitest';
import { useSettingsStore } from '../settings/settings-store';
import { currentCoarseLocation, disableCoarseLocation } from './location';

/** A device whose position fix arrives only when the test says so. */
function slowGeolocation() {
  const waiting: ((position: GeolocationPosition) => void)[] = [];
  vi.stubGlobal('navigator', {
    geolocation: {
      getCurrentPosition: (success: (position: GeolocationPosition) => void) =>
        waiting.push(success),
    },
  });
  return {
    /** Throws until the app has asked, so `vi.waitFor` retries until then. */
    arrive(latitude: number, longitude: number) {
      if (waiting.length === 0) throw new Error('the app has not asked for a position yet');
      for (const success of waiting.splice(0)) {
        success({ coords: { latitude, longitude } } as GeolocationPosition);
      }
    },
  };
}

describe('the coarse location of observations', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    disableCoarseLocation();
  });

  it('gives a rounded fix while the setting is on', async () => {
    const device = slowGeolocation();
    useSettingsStore.getState().setSaveCoarseLocation(true);
    const asked = currentCoarseLocation();
    await vi.waitFor(() => device.arrive(51.4567, -0.1234));
    await expect(asked).resolves.toEqual({ lat: 51.5, lon: -0.1 });
  });

  it('gives nothing, and keeps nothing, when the setting is turned off while the fix is on its way', async () => {
    const device = slowGeolocation();
    useSettingsStore.getState().setSaveCoarseLocation(true);
    const asked = currentCoarseLocation();
    disableCoarseLocation();
    await vi.waitFor(() => device.arrive(51.4567, -0.1234));
    await expect(asked).resolves.toBeNull();
    // Nothing cached either: turned on again, the next observation asks the device anew.
    useSettingsStore.getState().setSaveCoarseLocation(true);
    const next = currentCoarseLocation();
    await vi.waitFor(() => device.arrive(48.8566, 2.3522));
    await expect(next).resolves.toEqual({ lat: 48.9, lon: 2.4 });
  });
});
