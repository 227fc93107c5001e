import { appError, fail, ok, type AppError, type Result } from '../core/errors';
import { formatModelRef } from '../core/model-ref';
import type { ModelFolder } from '../node/model-folder';
import type {
  ModelRegistryService,
  ModelState,
  RegisteredVersion,
} from '../server/registry/registry';
import { parseModelArgs, USAGE, type ModelArgs } from './model-args';
import {
  asJson,
  candidateFigures,
  errorLine,
  historyText,
  listJson,
  listText,
  showJson,
  showText,
  type CheckedFile,
} from './model-format';

/**
 * The verbs of `npm run model`, one function each: parsed arguments and a registry in,
 * text on the given streams, the exit status back (0 done, 1 refused or failed, 2 usage).
 * `runModelCommand` is the whole command, and the only way in.
 */

export interface Output {
  write(text: string): unknown;
}

export interface CommandIo {
  out: Output;
  err: Output;
}

type Args<V extends ModelArgs['verb']> = Extract<ModelArgs, { verb: V }>;

const EXIT = { done: 0, failed: 1, usage: 2 } as const;

const change = (args: { actor: string; note: string | null }) => ({
  actor: args.actor,
  note: args.note,
});

function failed(io: CommandIo, error: AppError): number {
  io.err.write(errorLine(error));
  return EXIT.failed;
}

/** The exit status of a change: its line on stdout when it went through. */
function report<T>(io: CommandIo, result: Result<T>, line: (value: T) => string): number {
  if (!result.ok) return failed(io, result.error);
  io.out.write(`${line(result.value)}\n`);
  return EXIT.done;
}

async function knownModel(registry: ModelRegistryService, id: string): Promise<Result<ModelState>> {
  const state = await registry.model(id);
  return state === null ? fail('UNKNOWN_MODEL', `no model "${id}" is registered`) : ok(state);
}

async function listCommand(
  args: Args<'list'>,
  registry: ModelRegistryService,
  io: CommandIo,
): Promise<number> {
  const states = await registry.list();
  io.out.write(args.json ? asJson(listJson(states)) : listText(states));
  return EXIT.done;
}

/** Prints a version and reads every stored file back, which checks it against its sha256. */
async function showCommand(
  args: Args<'show'>,
  registry: ModelRegistryService,
  io: CommandIo,
): Promise<number> {
  const known = await knownModel(registry, args.id);
  if (!known.ok) return failed(io, known.error);
  const state = known.value;
  const wanted = args.version ?? state.stable;
  const version = state.versions.find((v) => v.version === wanted);
  if (version === undefined) {
    const versions = state.versions.map((v) => v.version).join(', ');
    return failed(
      io,
      appError(
        'UNKNOWN_MODEL',
        wanted === null
          ? `${args.id} has no stable version; versions: ${versions}`
          : `${args.id} has no version ${wanted}; versions: ${versions}`,
      ),
    );
  }
  const files: CheckedFile[] = [];
  for (const file of version.files) {
    const read = await registry.readFile(version.id, version.version, file.path);
    files.push({ ...file, problem: read.ok ? null : read.error });
  }
  io.out.write(
    args.json ? asJson(showJson(state, version, files)) : showText(state, version, files),
  );
  const problem = files.find((f) => f.problem !== null)?.problem;
  return problem ? failed(io, problem) : EXIT.done;
}

/**
 * Registers a folder `runModelCommand` validated before it opened the registry: a bad folder
 * leaves the registry, and a database that does not exist yet, as they were.
 */
async function addCommand(
  args: Args<'add'>,
  folder: ModelFolder,
  registry: ModelRegistryService,
  io: CommandIo,
): Promise<number> {
  const registered = await registry.register({
    id: folder.id,
    version: folder.version,
    files: folder.files,
    card: folder.card,
    note: args.note,
    actor: args.actor,
  });
  if (!registered.ok) return failed(io, registered.error);
  const { version, created, becameStable } = registered.value;
  const ref = formatModelRef({ id: args.id, version });
  if (!created) io.err.write(`${ref} was already registered\n`);
  if (becameStable) io.err.write(`${ref} is the first version of ${args.id}, so it is stable\n`);
  io.out.write(`${ref}\n`);
  return EXIT.done;
}

/**
 * Before a channel points devices at a version, the checks of `add` on its stored files: a
 * version the server registered at start from MODELS_DIR has never been run (the server
 * has no TF.js). A version the registry does not know is left for the change to refuse.
 */
async function checkBeforeChannel(
  registry: ModelRegistryService,
  id: string,
  version: string,
): Promise<Result<void>> {
  const state = await registry.model(id);
  const stored: RegisteredVersion | undefined = state?.versions.find((v) => v.version === version);
  if (stored === undefined) return ok(undefined);
  // Imported here: TF.js takes a second or more to load, which the other verbs do not need.
  const { validateStoredVersion } = await import('./validate-folder');
  return validateStoredVersion(registry, stored);
}

async function rolloutCommand(
  args: Args<'rollout'>,
  registry: ModelRegistryService,
  io: CommandIo,
): Promise<number> {
  const checked = await checkBeforeChannel(registry, args.id, args.version);
  if (!checked.ok) return failed(io, checked.error);
  const result = await registry.rollout(args.id, args.version, {
    percent: args.percent,
    ...(args.shadowRate === undefined ? {} : { shadowRate: args.shadowRate }),
    ...change(args),
  });
  return report(
    io,
    result,
    (candidate) =>
      `${formatModelRef(args)} is the candidate for ${candidateFigures(candidate)} (salt ${candidate.salt})`,
  );
}

async function promoteCommand(
  args: Args<'promote'>,
  registry: ModelRegistryService,
  io: CommandIo,
): Promise<number> {
  const checked = await checkBeforeChannel(registry, args.id, args.version);
  if (!checked.ok) return failed(io, checked.error);
  const result = await registry.promote(args.id, args.version, change(args));
  return report(io, result, () => `${formatModelRef(args)} is stable`);
}

async function rollbackCommand(
  args: Args<'rollback'>,
  registry: ModelRegistryService,
  io: CommandIo,
): Promise<number> {
  const result = await registry.rollback(args.id, change(args));
  return report(io, result, (outcome) =>
    outcome.kind === 'withdrew-candidate'
      ? `${args.id}: candidate ${outcome.version} withdrawn`
      : `${args.id}: stable returned from ${outcome.from} to ${outcome.to}`,
  );
}

async function historyCommand(
  args: Args<'history'>,
  registry: ModelRegistryService,
  io: CommandIo,
): Promise<number> {
  const known = await knownModel(registry, args.id);
  if (!known.ok) return failed(io, known.error);
  const entries = await registry.history(args.id);
  io.out.write(args.json ? asJson(entries) : historyText(entries));
  return EXIT.done;
}

async function removeCommand(
  args: Args<'remove'>,
  registry: ModelRegistryService,
  io: CommandIo,
): Promise<number> {
  const result = await registry.remove(args.id, args.version, change(args));
  return report(io, result, () => `${formatModelRef(args)} removed`);
}

/** Every verb but `add`, which needs its folder validated first (`runModelCommand`). */
function runVerb(
  args: Exclude<ModelArgs, { verb: 'help' | 'add' }>,
  registry: ModelRegistryService,
  io: CommandIo,
): Promise<number> {
  switch (args.verb) {
    case 'list':
      return listCommand(args, registry, io);
    case 'show':
      return showCommand(args, registry, io);
    case 'rollout':
      return rolloutCommand(args, registry, io);
    case 'promote':
      return promoteCommand(args, registry, io);
    case 'rollback':
      return rollbackCommand(args, registry, io);
    case 'history':
      return historyCommand(args, registry, io);
    case 'remove':
      return removeCommand(args, registry, io);
  }
}

export interface ModelCommandDeps extends CommandIo {
  /**
   * Called only once the arguments (and for `add`, the folder) are known to be good; the
   * registry is closed before the command returns. It throws when the configuration or the
   * database is unusable: that is the environment's failure, not one the command expects.
   */
  openRegistry(): Promise<ModelRegistryService>;
  /** Who a change is by without `--by`. */
  defaultActor: string;
  /** What a relative folder of `add` is relative to: where the user typed the command. */
  cwd: string;
}

/** A throw nothing expected, as an error of the one vocabulary: INTERNAL, with what was being done. */
function unexpected(what: string, error: unknown): AppError {
  const message = error instanceof Error ? error.message : String(error);
  return appError('INTERNAL', `${what}: ${message}`);
}

/**
 * The whole command: parse, validate (for `add`), open the registry, run the verb, close.
 * Whatever happens, it ends with an exit status and at most one error line on stderr,
 * never with an exception.
 */
export async function runModelCommand(
  argv: readonly string[],
  deps: ModelCommandDeps,
): Promise<number> {
  const parsed = parseModelArgs(argv, deps.defaultActor, deps.cwd);
  if (!parsed.ok) {
    deps.err.write(`${parsed.reason}\n${USAGE}\n`);
    return EXIT.usage;
  }
  const { args } = parsed;
  if (args.verb === 'help') {
    deps.out.write(`${USAGE}\n`);
    return EXIT.done;
  }
  try {
    let folder: ModelFolder | null = null;
    if (args.verb === 'add') {
      // Imported here: TF.js takes a second or more to load, which most verbs do not need.
      const { validateModelFolder } = await import('./validate-folder');
      const validated = await validateModelFolder(args.dir, args.id);
      if (!validated.ok) return failed(deps, validated.error);
      folder = validated.value;
    }
    let registry: ModelRegistryService;
    try {
      registry = await deps.openRegistry();
    } catch (error) {
      return failed(deps, unexpected('the registry could not be opened', error));
    }
    let status: number;
    try {
      status =
        args.verb === 'add'
          ? await addCommand(args, folder!, registry, deps)
          : await runVerb(args, registry, deps);
    } catch (error) {
      status = failed(deps, unexpected(`${args.verb} failed`, error));
    }
    try {
      await registry.close();
    } catch (error) {
      // The verb's outcome stands: what it did is done (or not), whatever closing says.
      deps.err.write(
        `warning: the registry did not close cleanly (${unexpected('close', error).detail})\n`,
      );
    }
    return status;
  } catch (error) {
    return failed(deps, unexpected(`${args.verb} failed`, error));
  }
}
