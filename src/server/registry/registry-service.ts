import { fail, ok, type Result } from '../../core/errors';
import { canonicalJson } from '../../core/feedback';
import { modelCardSchema } from '../../core/model-card';
import type { ModelFile } from '../../core/model-manifest';
import { isPercentStep, isShadowRate, randomHex, roundToPercentStep } from '../../core/rollout';
import { sha256Hex } from '../../node/model-folder';
import { ensureStored, readChecked, type FileStore } from './file-store';
import { newVersionProblem } from './new-version-check';
import type {
  CandidateChannel,
  ChangeOptions,
  LogAction,
  ModelRegistryService,
  ModelState,
  RollbackOutcome,
  RolloutOptions,
} from './registry';
import type { ChannelsRow, RegistryDb, RegistryTx, VersionRow } from './registry-db';
import { manifestOf } from './registry-manifest';
import { byId, filesOf, parseLogRow, toLogEntry, toRegistered } from './registry-rows';
import { previousStable } from './stable-history';

export interface RegistryServiceDeps {
  db: RegistryDb;
  files: FileStore;
  /** Milliseconds: the time written to versions and to the log. */
  now: () => number;
}

const MAX_ACTOR_CHARS = 200;
const MAX_NOTE_CHARS = 2000;

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
      // As parsed, in canonical form: what the version's card line was hashed from (keys
      // the schema does not know are no part of the card).
      const cardJson = canonicalJson(modelCardSchema.parse(version.card));
      const cardSha256 = sha256Hex(cardJson);
      const same = (row: VersionRow) =>
        sameFiles(filesOf(row), listed) && row.cardSha256 === cardSha256;
      const collision = () =>
        fail(
          'MODEL_INVALID',
          `${id}@${version.version} is already registered with other files or another card (a version collision)`,
        );
      const existed = ok({ version: version.version, created: false, becameStable: false });

      const existing = await db.read((tx) => tx.version(id, version.version));
      if (existing !== null && !same(existing)) return collision();
      // Before the version row, so that a registered version always has its files; a
      // process killed in between leaves stored files that nothing refers to, not a
      // version without them.
      for (const file of version.files) {
        const stored = await ensureStored(files, file);
        if (!stored.ok) return stored;
      }
      if (existing !== null) return existed;

      const totalBytes = listed.reduce((sum, f) => sum + f.bytes, 0);
      return db.write(async (tx) => {
        // Another process may have registered it since the read above.
        const again = await tx.version(id, version.version);
        if (again !== null) return same(again) ? existed : collision();
        const at = isoNow();
        await tx.insertVersion({
          modelId: id,
          version: version.version,
          cardJson,
          cardSha256,
          filesJson: JSON.stringify(listed),
          totalBytes,
          registeredAt: at,
          note: version.note,
        });
        const becameStable = (await tx.channels(id)) === null;
        if (becameStable) {
          await tx.putChannels({
            modelId: id,
            stable: version.version,
            candidate: null,
            changedAt: at,
          });
        }
        await log(
          tx,
          {
            modelId: id,
            action: 'register',
            version: version.version,
            details: {
              files: listed.length,
              totalBytes,
              cardSha256,
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
      const percent = roundToPercentStep(options.percent);
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
        await tx.putChannels({
          modelId: id,
          stable: channels.stable,
          candidate,
          changedAt: isoNow(),
        });
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
          changedAt: isoNow(),
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
      return db.write(async (tx): Promise<Result<RollbackOutcome>> => {
        const channels = await tx.channels(id);
        if (channels === null) return fail('UNKNOWN_MODEL', `${id} is not registered`);
        const { candidate } = channels;
        if (candidate !== null) {
          await tx.putChannels({
            modelId: id,
            stable: channels.stable,
            candidate: null,
            changedAt: isoNow(),
          });
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
          return ok({ kind: 'withdrew-candidate', version: candidate.version });
        }
        const rows = await tx.log(id);
        const versions = await tx.versions(id);
        const registered = new Set(versions.map((v) => v.version));
        const back = previousStable(rows.map(parseLogRow), channels.stable, (v) =>
          registered.has(v),
        );
        if (back.version === null) {
          return fail('NOTHING_TO_ROLL_BACK', `${id} has no candidate, and ${back.why}`);
        }
        const to = back.version;
        await tx.putChannels({ modelId: id, stable: to, candidate: null, changedAt: isoNow() });
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
        return ok({ kind: 'returned-stable', from: channels.stable, to });
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
        return manifestOf(channels, versions, isoNow());
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
  if (options.note !== null && typeof options.note !== 'string') {
    return { code: 'VALIDATION_FAILED' as const, detail: 'the note must be text, or null' };
  }
  if (options.note !== null && options.note.length > MAX_NOTE_CHARS) {
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
  if (shadowRate !== undefined && !isShadowRate(shadowRate)) {
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
