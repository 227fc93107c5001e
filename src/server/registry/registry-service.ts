import { z } from 'zod';
import { fail, ok, type Result } from '../../core/errors';
import { modelCardSchema } from '../../core/model-card';
import { DEFAULT_MODEL_ID } from '../../core/model-catalog';
import { CHANNEL_MANIFEST_VERSION, type ChannelManifest } from '../../core/model-channels';
import { modelEntrySchema, modelFileSchema, type ModelFile } from '../../core/model-manifest';
import { isPercentStep, randomHex } from '../../core/rollout';
import { entryOf, sha256Hex } from '../../node/model-folder';
import { ensureStored, readChecked, type FileStore } from './file-store';
import { newVersionProblem } from './new-version-check';
import type {
  CandidateChannel,
  ChangeOptions,
  LogAction,
  LogEntry,
  ModelRegistryService,
  ModelState,
  RegisteredVersion,
  RolloutOptions,
} from './registry';
import type { ChannelsRow, LogRow, RegistryDb, RegistryTx, VersionRow } from './registry-db';
import { previousStable } from './stable-history';

export interface RegistryServiceDeps {
  db: RegistryDb;
  files: FileStore;
  /** Milliseconds: the time written to versions and to the log. */
  now: () => number;
}

const MAX_ACTOR_CHARS = 200;
const MAX_NOTE_CHARS = 2000;
/** Percentages are kept to the bucket step (0.001), so that a float's tail never shows. */
const PERCENT_SCALE = 1000;

const filesSchema = z.array(modelFileSchema).min(1);
const detailsSchema = z.record(z.string(), z.unknown());
const LOG_ACTIONS = ['register', 'rollout', 'promote', 'rollback', 'remove'] as const;
const actionSchema = z.enum(LOG_ACTIONS satisfies readonly LogAction[]);

/**
 * The registry's rules over a database adapter and a file store: versions are immutable,
 * every change is one transaction that writes one log row, and a channel only ever points
 * at a registered version.
 */
export function createRegistryService({
  db,
  files,
  now,
}: RegistryServiceDeps): ModelRegistryService {
  const isoNow = () => new Date(now()).toISOString();
  const log = (
    tx: RegistryTx,
    entry: { modelId: string; action: LogAction; version: string | null; details: object },
    { actor, note }: ChangeOptions,
  ) =>
    tx.appendLog({
      modelId: entry.modelId,
      at: isoNow(),
      actor,
      action: entry.action,
      version: entry.version,
      note,
      detailsJson: JSON.stringify(entry.details),
    });

  return {
    async register(version) {
      const problem = newVersionProblem(version) ?? changeProblem(version);
      if (problem !== null) return fail(problem.code, problem.detail);
      const { id } = version;
      const listed = version.files.map(({ path, bytes, sha256 }) => ({ path, bytes, sha256 }));
      const collision = () =>
        fail(
          'MODEL_INVALID',
          `${id}@${version.version} is already registered with other files (a version collision)`,
        );

      const existing = await db.read((tx) => tx.version(id, version.version));
      if (existing !== null && !sameFiles(filesOf(existing), listed)) return collision();
      // Before the version row, so that a registered version always has its files; a
      // process killed in between leaves stored files that nothing refers to, not a
      // version without them.
      for (const file of version.files) {
        const stored = await ensureStored(files, file);
        if (!stored.ok) return stored;
      }
      if (existing !== null)
        return ok({ version: version.version, created: false, becameStable: false });

      // As parsed: a card with keys the schema does not know is stored without them.
      const cardJson = JSON.stringify(modelCardSchema.parse(version.card));
      const totalBytes = listed.reduce((sum, f) => sum + f.bytes, 0);
      return db.write(async (tx) => {
        // Another process may have registered it since the read above.
        const again = await tx.version(id, version.version);
        if (again !== null) {
          return sameFiles(filesOf(again), listed)
            ? ok({ version: version.version, created: false, becameStable: false })
            : collision();
        }
        await tx.insertVersion({
          modelId: id,
          version: version.version,
          cardJson,
          cardSha256: sha256Hex(cardJson),
          filesJson: JSON.stringify(listed),
          totalBytes,
          registeredAt: isoNow(),
          note: version.note,
        });
        const becameStable = (await tx.channels(id)) === null;
        if (becameStable)
          await tx.putChannels({ modelId: id, stable: version.version, candidate: null });
        await log(
          tx,
          {
            modelId: id,
            action: 'register',
            version: version.version,
            details: {
              files: listed.length,
              totalBytes,
              cardSha256: sha256Hex(cardJson),
              ...(becameStable ? { stable: { from: null, to: version.version } } : {}),
            },
          },
          version,
        );
        return ok({ version: version.version, created: true, becameStable });
      });
    },

    async list() {
      return db.read(async (tx) => {
        const versions = await tx.versions(null);
        const channels = await tx.allChannels();
        return byId(channels).map((row) =>
          stateOf(
            row.modelId,
            versions.filter((v) => v.modelId === row.modelId),
            row,
          ),
        );
      });
    },

    async model(id) {
      return db.read(async (tx) => {
        const versions = await tx.versions(id);
        const channels = await tx.channels(id);
        return channels === null && versions.length === 0 ? null : stateOf(id, versions, channels);
      });
    },

    async rollout(id, version, options) {
      const problem = changeProblem(options) ?? rolloutProblem(options);
      if (problem !== null) return fail(problem.code, problem.detail);
      const percent = Math.round(options.percent * PERCENT_SCALE) / PERCENT_SCALE;
      return db.write(async (tx): Promise<Result<CandidateChannel>> => {
        const found = await findVersion(tx, id, version);
        if (!found.ok) return found;
        const { channels } = found.value;
        if (channels.stable === version) {
          return fail(
            'VALIDATION_FAILED',
            `${id}@${version} is the stable version: only another version can be rolled out`,
          );
        }
        const previous = channels.candidate;
        const running = previous?.version === version ? previous : null;
        const shadowRate = options.shadowRate ?? running?.shadowRate ?? 0;
        if (running !== null && running.percent === percent && running.shadowRate === shadowRate) {
          return ok({ ...running });
        }
        // The same rollout going on keeps its salt, so nobody already on it is moved back.
        const candidate: CandidateChannel =
          running === null
            ? { version, percent, shadowRate, salt: randomHex(), since: isoNow() }
            : { ...running, percent, shadowRate };
        await tx.putChannels({ modelId: id, stable: channels.stable, candidate });
        await log(
          tx,
          {
            modelId: id,
            action: 'rollout',
            version,
            details: {
              percent,
              shadowRate,
              salt: candidate.salt,
              since: candidate.since,
              newSalt: running === null,
              replaced:
                previous === null
                  ? null
                  : {
                      version: previous.version,
                      percent: previous.percent,
                      shadowRate: previous.shadowRate,
                    },
            },
          },
          options,
        );
        return ok(candidate);
      });
    },

    async promote(id, version, options) {
      const problem = changeProblem(options);
      if (problem !== null) return fail(problem.code, problem.detail);
      return db.write(async (tx): Promise<Result<void>> => {
        const found = await findVersion(tx, id, version);
        if (!found.ok) return found;
        const { channels } = found.value;
        if (channels.stable === version) return ok(undefined);
        const cleared = channels.candidate?.version === version ? channels.candidate : null;
        await tx.putChannels({
          modelId: id,
          stable: version,
          candidate: cleared === null ? channels.candidate : null,
        });
        await log(
          tx,
          {
            modelId: id,
            action: 'promote',
            version,
            details: {
              stable: { from: channels.stable, to: version },
              clearedCandidate:
                cleared === null ? null : { percent: cleared.percent, salt: cleared.salt },
            },
          },
          options,
        );
        return ok(undefined);
      });
    },

    async rollback(id, options) {
      const problem = changeProblem(options);
      if (problem !== null) return fail(problem.code, problem.detail);
      return db.write(async (tx) => {
        const channels = await tx.channels(id);
        if (channels === null) return fail('UNKNOWN_MODEL', `${id} is not registered`);
        const { candidate } = channels;
        if (candidate !== null) {
          await tx.putChannels({ modelId: id, stable: channels.stable, candidate: null });
          await log(
            tx,
            {
              modelId: id,
              action: 'rollback',
              version: candidate.version,
              details: { withdrew: { ...candidate } },
            },
            options,
          );
          return ok({ kind: 'withdrew-candidate' as const, version: candidate.version });
        }
        const rows = await tx.log(id);
        const versions = await tx.versions(id);
        const registered = new Set(versions.map((v) => v.version));
        const to = previousStable(rows.map(parseLogRow), channels.stable, (v) => registered.has(v));
        if (to === null) {
          return fail(
            'NOTHING_TO_ROLL_BACK',
            `${id} has no candidate, and ${channels.stable} is its first stable version`,
          );
        }
        await tx.putChannels({ modelId: id, stable: to, candidate: null });
        await log(
          tx,
          {
            modelId: id,
            action: 'rollback',
            version: to,
            details: { stable: { from: channels.stable, to } },
          },
          options,
        );
        return ok({ kind: 'returned-stable' as const, from: channels.stable, to });
      });
    },

    async history(id) {
      return (await db.read((tx) => tx.log(id))).map(toLogEntry);
    },

    async remove(id, version, options) {
      const problem = changeProblem(options);
      if (problem !== null) return fail(problem.code, problem.detail);
      return db.write(async (tx): Promise<Result<void>> => {
        const found = await findVersion(tx, id, version);
        if (!found.ok) return found;
        const { channels, row } = found.value;
        const channel =
          channels.stable === version
            ? 'stable'
            : channels.candidate?.version === version
              ? 'candidate'
              : null;
        if (channel !== null) {
          return fail('VERSION_IN_USE', `${id}@${version} is the ${channel} version`);
        }
        await tx.deleteVersion(id, version);
        // The stored files stay: other versions may share them, and a server may be
        // sending them right now. Nothing refers to them once no version lists them.
        await log(
          tx,
          {
            modelId: id,
            action: 'remove',
            version,
            details: { files: filesOf(row).length, totalBytes: row.totalBytes },
          },
          options,
        );
        return ok(undefined);
      });
    },

    async manifest() {
      return db.read(async (tx) => {
        const channels = await tx.allChannels();
        const versions = await tx.versions(null);
        const last = await tx.lastChange();
        return manifestOf(channels, versions, last?.at ?? isoNow());
      });
    },

    revision: () => db.revision(),

    async readFile(id, version, path) {
      const row = await db.read((tx) => tx.version(id, version));
      if (row === null) return fail('UNKNOWN_MODEL', `${id}@${version} is not registered`);
      const file = filesOf(row).find((f) => f.path === path);
      if (file === undefined) return fail('NOT_FOUND', `${id}@${version} has no ${path}`);
      return readChecked(files, file);
    },

    close: () => db.close(),
  };
}

async function findVersion(
  tx: RegistryTx,
  id: string,
  version: string,
): Promise<Result<{ channels: ChannelsRow; row: VersionRow }>> {
  // One statement at a time: a PostgreSQL connection runs one query at a time anyway.
  const channels = await tx.channels(id);
  const row = await tx.version(id, version);
  if (channels === null || row === null) {
    return fail('UNKNOWN_MODEL', `${id}@${version} is not registered`);
  }
  return ok({ channels, row });
}

function changeProblem(options: ChangeOptions) {
  if (typeof options.actor !== 'string' || options.actor.trim() === '') {
    return { code: 'VALIDATION_FAILED' as const, detail: 'a change needs an actor (who made it)' };
  }
  if (options.actor.length > MAX_ACTOR_CHARS) {
    return {
      code: 'VALIDATION_FAILED' as const,
      detail: `the actor is over ${MAX_ACTOR_CHARS} characters`,
    };
  }
  if (
    options.note !== null &&
    (typeof options.note !== 'string' || options.note.length > MAX_NOTE_CHARS)
  ) {
    return {
      code: 'VALIDATION_FAILED' as const,
      detail: `the note is over ${MAX_NOTE_CHARS} characters`,
    };
  }
  return null;
}

function rolloutProblem({ percent, shadowRate }: RolloutOptions) {
  if (!Number.isFinite(percent) || !isPercentStep(percent)) {
    return {
      code: 'VALIDATION_FAILED' as const,
      detail: `percent must be from 0 to 100 in steps of 0.001, not ${percent}`,
    };
  }
  if (
    shadowRate !== undefined &&
    !(Number.isFinite(shadowRate) && shadowRate >= 0 && shadowRate <= 1)
  ) {
    return {
      code: 'VALIDATION_FAILED' as const,
      detail: `the shadow rate must be from 0 to 1, not ${shadowRate}`,
    };
  }
  return null;
}

function sameFiles(a: readonly ModelFile[], b: readonly ModelFile[]): boolean {
  return (
    a.length === b.length &&
    a.every((f, i) => f.path === b[i]?.path && f.sha256 === b[i]?.sha256 && f.bytes === b[i]?.bytes)
  );
}

/** A row read back is checked like any other input: damage is an error, not a version. */
function filesOf(row: VersionRow): ModelFile[] {
  return parseStored(filesSchema, row.filesJson, `the files of ${row.modelId}@${row.version}`);
}

function toRegistered(row: VersionRow): RegisteredVersion {
  const files = filesOf(row);
  return {
    id: row.modelId,
    version: row.version,
    card: parseStored(modelCardSchema, row.cardJson, `the card of ${row.modelId}@${row.version}`),
    files,
    totalBytes: row.totalBytes,
    registeredAt: row.registeredAt,
    note: row.note,
    cardSha256: row.cardSha256,
  };
}

function parseStored<T>(schema: z.ZodType<T>, json: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`${what} in the registry is not JSON`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new Error(`${what} in the registry: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function parseLogRow(row: LogRow) {
  return {
    action: row.action,
    details: parseStored(detailsSchema, row.detailsJson, `log row ${row.seq}`),
  };
}

function toLogEntry(row: LogRow): LogEntry {
  const action = actionSchema.safeParse(row.action);
  if (!action.success) throw new Error(`log row ${row.seq} has an unknown action ${row.action}`);
  return {
    seq: row.seq,
    modelId: row.modelId,
    at: row.at,
    actor: row.actor,
    action: action.data,
    version: row.version,
    note: row.note,
    details: parseLogRow(row).details,
  };
}

/** In code-point order whatever the database's collation, so both databases list alike. */
function byId(channels: readonly ChannelsRow[]): ChannelsRow[] {
  return [...channels].sort((a, b) => (a.modelId < b.modelId ? -1 : a.modelId > b.modelId ? 1 : 0));
}

function stateOf(
  id: string,
  versions: readonly VersionRow[],
  channels: ChannelsRow | null,
): ModelState {
  return {
    id,
    versions: versions.map(toRegistered),
    stable: channels?.stable ?? null,
    candidate: channels?.candidate ? { ...channels.candidate } : null,
  };
}

/** Every id with a stable version, in id order; entries built as the folder registry builds them. */
function manifestOf(
  channels: readonly ChannelsRow[],
  versions: readonly VersionRow[],
  generatedAt: string,
): ChannelManifest {
  const byKey = new Map(versions.map((row) => [`${row.modelId}@${row.version}`, row]));
  const entry = (id: string, version: string) => {
    const row = byKey.get(`${id}@${version}`);
    if (row === undefined)
      throw new Error(`the channels of ${id} point at a missing version ${version}`);
    const registered = toRegistered(row);
    return modelEntrySchema.parse(entryOf(registered));
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
  return {
    schemaVersion: CHANNEL_MANIFEST_VERSION,
    generatedAt,
    defaultModel: ids.includes(DEFAULT_MODEL_ID) ? DEFAULT_MODEL_ID : (ids[0] ?? ''),
    models,
  };
}
