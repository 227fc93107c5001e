import { DEFAULT_MODEL_ID } from '../../core/model-catalog';
import { CHANNEL_MANIFEST_VERSION, type ChannelManifest } from '../../core/model-channels';
import { modelEntrySchema } from '../../core/model-manifest';
import { entryOf } from '../../node/model-folder';
import type { ChannelsRow, VersionRow } from './registry-db';
import { byId, toRegistered } from './registry-rows';

/**
 * The manifest devices read, from the channels and the versions they point at: every id
 * with a stable version, in id order, each entry built as the folder registry builds it.
 * It is dated by the last change of a channel, so that the same channels give the same
 * manifest (and ETag) on every server, and registering or removing a version no channel
 * points at changes nothing that is served. `emptyAt` dates a registry with no channel.
 */
export function manifestOf(
  channels: readonly ChannelsRow[],
  versions: readonly VersionRow[],
  emptyAt: string,
): ChannelManifest {
  const byKey = new Map(versions.map((row) => [`${row.modelId}@${row.version}`, row]));
  const entry = (id: string, version: string) => {
    const row = byKey.get(`${id}@${version}`);
    if (row === undefined) {
      throw new Error(`the channels of ${id} point at a missing version ${version}`);
    }
    return modelEntrySchema.parse(entryOf(toRegistered(row)));
  };
  const models: ChannelManifest['models'] = {};
  for (const { modelId, stable, candidate } of byId(channels)) {
    models[modelId] = {
      stable: entry(modelId, stable),
      ...(candidate === null
        ? {}
        : {
            candidate: {
              ...entry(modelId, candidate.version),
              percent: candidate.percent,
              salt: candidate.salt,
              shadowRate: candidate.shadowRate,
            },
          }),
    };
  }
  const ids = Object.keys(models);
  const changes = channels.map((row) => Date.parse(row.changedAt));
  return {
    schemaVersion: CHANNEL_MANIFEST_VERSION,
    generatedAt: changes.length === 0 ? emptyAt : new Date(Math.max(...changes)).toISOString(),
    defaultModel: ids.includes(DEFAULT_MODEL_ID) ? DEFAULT_MODEL_ID : (ids[0] ?? ''),
    models,
  };
}
