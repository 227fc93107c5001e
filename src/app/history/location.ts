import { coarsenLocation, type CoarseLocation } from '../../core/history-policy';
import { useSettingsStore } from '../settings/settings-store';

/**
 * The optional coarse location of observations. Only ever asked for when the user turns
 * it on; positions are taken with low accuracy, rounded to 0.1° at once (the precise one
 * is never kept), and reused for a while so that a batch asks the device once.
 */

/** A cheap, possibly cached fix: field work moves slower than this. */
const MAX_POSITION_AGE_MS = 10 * 60_000;
/** How long a fix may take before the observation keeps no location. */
const POSITION_TIMEOUT_MS = 4000;
/** Turning the setting on waits longer: the user is answering the permission prompt. */
const PERMISSION_TIMEOUT_MS = 60_000;

let cached: { at: number; location: CoarseLocation } | null = null;
let inFlight: Promise<CoarseLocation | null> | null = null;

export type LocationRequest = 'granted' | 'denied' | 'unavailable';

function geolocation(): Geolocation | null {
  return typeof navigator !== 'undefined' && navigator.geolocation ? navigator.geolocation : null;
}

function coarsePosition(timeoutMs: number): Promise<CoarseLocation | 'denied' | null> {
  const geo = geolocation();
  if (geo === null) return Promise.resolve(null);
  return new Promise((resolve) => {
    geo.getCurrentPosition(
      (position) => {
        const location = coarsenLocation(position.coords.latitude, position.coords.longitude);
        if (location) cached = { at: Date.now(), location };
        resolve(location);
      },
      (error) => resolve(error.code === error.PERMISSION_DENIED ? 'denied' : null),
      { enableHighAccuracy: false, timeout: timeoutMs, maximumAge: MAX_POSITION_AGE_MS },
    );
  });
}

/** Switches the setting on after asking for permission, or leaves it off and says why. */
export async function enableCoarseLocation(): Promise<LocationRequest> {
  if (geolocation() === null) return 'unavailable';
  const answer = await coarsePosition(PERMISSION_TIMEOUT_MS);
  if (answer === 'denied') return 'denied';
  // A timeout still counts as allowed: the permission was given, a fix comes later.
  useSettingsStore.getState().setSaveCoarseLocation(true);
  return 'granted';
}

export function disableCoarseLocation(): void {
  useSettingsStore.getState().setSaveCoarseLocation(false);
  cached = null;
}

/** Is the permission still granted? Never prompts; unknown counts as "ask the device". */
async function permissionGranted(): Promise<boolean> {
  try {
    const status = await navigator.permissions?.query({ name: 'geolocation' });
    return status === undefined || status.state === 'granted';
  } catch {
    return true;
  }
}

/**
 * The location to store with an observation now, or null: setting off, permission gone
 * (it is never asked for again from here, so a batch cannot pop up a prompt), no fix in
 * time. Never throws.
 */
export async function currentCoarseLocation(): Promise<CoarseLocation | null> {
  if (!useSettingsStore.getState().saveCoarseLocation) return null;
  if (cached && Date.now() - cached.at < MAX_POSITION_AGE_MS) return cached.location;
  inFlight ??= (async () => {
    if (!(await permissionGranted())) return null;
    const answer = await coarsePosition(POSITION_TIMEOUT_MS);
    return answer === 'denied' ? null : answer;
  })().finally(() => {
    inFlight = null;
  });
  const found = await inFlight;
  // The user may have turned the setting off while the fix was on its way (it can take
  // seconds): then it is neither stored with the observation nor kept for the next one.
  if (!useSettingsStore.getState().saveCoarseLocation) {
    cached = null;
    return null;
  }
  return found;
}
