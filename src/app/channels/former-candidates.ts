import { z } from 'zod';
import { noteCandidates, type ChannelManifest } from '../../core/model-channels';
import { modelEntrySchema } from '../../core/model-manifest';
import type { ModelRef } from '../../core/model-ref';
import { browserStorage, readItem, writeItem, type DeviceStorage } from './device-storage';

/**
 * The versions this installation has seen as candidates and not as stable since (see
 * `noteCandidates`), kept across reloads: offline, after a rollback, they tell a withdrawn
 * candidate still in the caches from an older stable version, so that the withdrawn one
 * runs only when nothing else is stored. Beside the secret in localStorage, and like it
 * remembered for the session when storage fails.
 */

const STORAGE_KEY = 'fieldid-former-candidates';

const storedSchema = z.array(
  z.object({ id: modelEntrySchema.shape.id, version: modelEntrySchema.shape.version }),
);

export interface FormerCandidates {
  /** Oldest first. */
  list(): ModelRef[];
  /** Brings the list up to date with a manifest just read. */
  note(published: ChannelManifest): void;
}

export function createFormerCandidates(storage: () => DeviceStorage | null): FormerCandidates {
  let remembered: ModelRef[] | null = null;

  function list(): ModelRef[] {
    const text = readItem(storage, STORAGE_KEY);
    if (text === null) return remembered ?? [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = null;
    }
    // Untrusted like every stored value: anything but a list of model versions is no list.
    const parsed = storedSchema.safeParse(value);
    remembered = parsed.success ? parsed.data : (remembered ?? []);
    return remembered;
  }

  return {
    list,
    note(published) {
      remembered = noteCandidates(list(), published);
      writeItem(storage, STORAGE_KEY, JSON.stringify(remembered));
    },
  };
}

/** This browser profile's former candidates. */
export const formerCandidates = createFormerCandidates(browserStorage);
