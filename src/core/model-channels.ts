import { z } from 'zod';
import {
  modelEntrySchema,
  parseModelManifest,
  type ModelEntry,
  type ModelManifest,
} from './model-manifest';
import { sameModel, type ModelRef } from './model-ref';
import { isPercentStep, isShadowRate } from './rollout';

/**
 * The manifest as published at /models/manifest.json since releases have channels: per
 * model id the `stable` version entry and, while one is rolled out, a `candidate` with the
 * share of installations it goes to (`percent`), the salt of its draw and the share of
 * photos that also run on the other version (`shadowRate`). A device resolves it to the one
 * entry per model it uses (`resolveManifest`); the rest of the app reads that resolved
 * manifest, which has the shape of the manifest before channels.
 */

export const CHANNEL_MANIFEST_VERSION = 2;

export const candidateEntrySchema = modelEntrySchema.extend({
  percent: z.number().refine(isPercentStep, 'percent is from 0 to 100 in steps of 0.001'),
  /** New for every rollout, so that the same installations are not always the first. */
  salt: z.string().regex(/^[0-9a-f]{16,64}$/),
  shadowRate: z.number().refine(isShadowRate, 'shadowRate is from 0 to 1'),
});

export const modelChannelsSchema = z.object({
  stable: modelEntrySchema,
  candidate: candidateEntrySchema.optional(),
});

export const channelManifestSchema = z.object({
  schemaVersion: z.literal(CHANNEL_MANIFEST_VERSION),
  generatedAt: z.string(),
  defaultModel: z.string(),
  /** Keyed by model id, in the order the app lists them. */
  models: z.record(z.string(), modelChannelsSchema),
});

export type CandidateEntry = z.infer<typeof candidateEntrySchema>;
export type ModelChannels = z.infer<typeof modelChannelsSchema>;
export type ChannelManifest = z.infer<typeof channelManifestSchema>;
export type ChannelName = 'stable' | 'candidate';

export function parseChannelManifest(
  value: unknown,
): { ok: true; manifest: ChannelManifest } | { ok: false; reason: string } {
  const parsed = channelManifestSchema.safeParse(value);
  if (!parsed.success) return { ok: false, reason: z.prettifyError(parsed.error) };
  for (const [id, channels] of Object.entries(parsed.data.models)) {
    if (channels.stable.id !== id || (channels.candidate && channels.candidate.id !== id)) {
      return { ok: false, reason: `the entries under "${id}" are of another model` };
    }
    if (channels.candidate?.version === channels.stable.version) {
      return { ok: false, reason: `the candidate of "${id}" is its stable version` };
    }
  }
  // The stable entries must make a valid manifest on their own (default model, ids).
  const stable = parseModelManifest(stableView(parsed.data));
  return stable.ok ? { ok: true, manifest: parsed.data } : stable;
}

/** The manifest a device that takes no candidate uses. */
export function stableView(manifest: ChannelManifest): ModelManifest {
  return resolveManifest(manifest, () => false).manifest;
}

/** A channel manifest with every model on stable and no candidate: what a models folder alone publishes. */
export function stableOnly(
  models: readonly ModelEntry[],
  defaultModel: string,
  generatedAt: string,
): ChannelManifest {
  return {
    schemaVersion: CHANNEL_MANIFEST_VERSION,
    generatedAt,
    defaultModel,
    models: Object.fromEntries(models.map((entry) => [entry.id, { stable: entry }])),
  };
}

/** What one device uses of one model id: the channel it is on and the version that gives. */
export interface ChannelChoice {
  id: string;
  channel: ChannelName;
  version: string;
  /** The version of the other channel, when there is a candidate: what side by side would run. */
  otherVersion: string | null;
}

/**
 * The manifest one device uses: per model id the candidate entry when `isOnCandidate` says
 * the device is on that candidate, the stable entry otherwise. The candidate's rollout
 * fields are dropped from the entry, which then reads as any version entry.
 */
export function resolveManifest(
  manifest: ChannelManifest,
  isOnCandidate: (candidate: CandidateEntry) => boolean,
): { manifest: ModelManifest; choices: ChannelChoice[] } {
  const models: ModelEntry[] = [];
  const choices: ChannelChoice[] = [];
  for (const [id, { stable, candidate }] of Object.entries(manifest.models)) {
    const onCandidate = candidate !== undefined && isOnCandidate(candidate);
    models.push(onCandidate ? versionEntryOf(candidate) : stable);
    choices.push({
      id,
      channel: onCandidate ? 'candidate' : 'stable',
      version: onCandidate ? candidate.version : stable.version,
      otherVersion:
        candidate === undefined ? null : onCandidate ? stable.version : candidate.version,
    });
  }
  return {
    manifest: {
      schemaVersion: 1,
      generatedAt: manifest.generatedAt,
      defaultModel: manifest.defaultModel,
      models,
    },
    choices,
  };
}

/** A candidate as a plain version entry, without its rollout fields. */
export function versionEntryOf(candidate: CandidateEntry): ModelEntry {
  const entry: Partial<CandidateEntry> = { ...candidate };
  delete entry.percent;
  delete entry.salt;
  delete entry.shadowRate;
  return entry as ModelEntry;
}

/** Every version entry the manifest lists, stable and candidate: what a device may keep cached. */
export function listedEntries(manifest: ChannelManifest): ModelEntry[] {
  return Object.values(manifest.models).flatMap(({ stable, candidate }) =>
    candidate === undefined ? [stable] : [stable, versionEntryOf(candidate)],
  );
}

/**
 * How many former candidates a device remembers: far more than the rollouts a device sees
 * between two of its manifest checks.
 */
const FORMER_CANDIDATES_KEPT = 32;

/**
 * The versions a device has seen as candidates and not as stable since, brought up to date
 * with the manifest it has just read (oldest first). A stored version the manifest no longer
 * lists is then known to have been withdrawn, not to be an older stable version, which a
 * device keeps working with offline.
 */
export function noteCandidates(
  formerCandidates: readonly ModelRef[],
  published: ChannelManifest,
): ModelRef[] {
  const channels = Object.values(published.models);
  const candidates = channels.flatMap(({ candidate }) =>
    candidate === undefined ? [] : [{ id: candidate.id, version: candidate.version }],
  );
  const kept = formerCandidates.filter(
    (ref) =>
      !channels.some(({ stable }) => sameModel(stable, ref)) &&
      !candidates.some((candidate) => sameModel(candidate, ref)),
  );
  return [...kept, ...candidates].slice(-FORMER_CANDIDATES_KEPT);
}

/** The former candidates `published` no longer lists at all: rolled back. */
export function withdrawnCandidates(
  published: ChannelManifest,
  formerCandidates: readonly ModelRef[],
): ModelRef[] {
  const listed = listedEntries(published);
  return formerCandidates.filter((ref) => !listed.some((entry) => sameModel(entry, ref)));
}

/** The stable manifest of a served manifest, for readers that take no candidate (tools, tests). */
export function parseServedManifest(
  value: unknown,
): { ok: true; manifest: ModelManifest } | { ok: false; reason: string } {
  const parsed = parseChannelManifest(value);
  return parsed.ok ? { ok: true, manifest: stableView(parsed.manifest) } : parsed;
}
