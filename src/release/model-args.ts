import { basename, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { modelEntrySchema } from '../core/model-manifest';
import { isPercentStep, isShadowRate } from '../core/rollout';

/**
 * The command line of `npm run model`, parsed into one value per verb. Parsing is pure (the
 * default actor and the directory relative paths start from are given), so that every
 * usage error is found before a database is opened.
 */

export const USAGE = `usage: npm run model -- <verb> [options]
       npm run -s model -- <verb> --json    (-s: without npm's header, for JSON on stdout)
  list [--json]                        every model id: versions, stable, candidate
  show ID[@VERSION] [--json]           a version's card, files (sha256 checked) and channels;
                                       the stable version without @VERSION
  add DIR [--id ID] [--note TEXT]      validate a model folder (load, smoke inference, labels,
                                       input spec, sha256) and register it; prints ID@VERSION;
                                       ID defaults to the folder's name
  rollout ID@VERSION --percent P [--shadow RATE] [--note TEXT]
                                       put a version on the candidate channel for P % of
                                       installations (0 to 100 in steps of 0.001); RATE (0 to 1)
                                       of their photos also run on the other version
  promote ID@VERSION [--note TEXT]     make a version stable
  (rollout and promote first run the checks of add on the version's stored files)
  rollback ID [--note TEXT]            withdraw the candidate; without one, return stable to
                                       the previous stable version
  history ID [--json]                  the log: who, when, what, why, with the figures
  remove ID@VERSION [--note TEXT]      delete a version that no channel points to
  --by NAME on add, rollout, promote, rollback and remove names who made the change (default:
  the operating-system user).
The registry is the server's: SQLITE_PATH or DATABASE_URL (and PG_SCHEMA), files in
MODEL_STORE_DIR or, with MODEL_STORE=database, in PostgreSQL.
--help (-h) after any verb prints this.
Exit status: 0 done, 1 refused or failed ("error CODE: ..." on stderr), 2 usage error.`;

interface ModelRefArg {
  id: string;
  version: string;
}

interface Change {
  actor: string;
  note: string | null;
}

export type ModelArgs =
  | { verb: 'help' }
  | { verb: 'list'; json: boolean }
  | { verb: 'show'; id: string; version: string | null; json: boolean }
  | ({ verb: 'add'; dir: string; id: string } & Change)
  | ({ verb: 'rollout'; percent: number; shadowRate: number | undefined } & ModelRefArg & Change)
  | ({ verb: 'promote' } & ModelRefArg & Change)
  | ({ verb: 'rollback'; id: string } & Change)
  | { verb: 'history'; id: string; json: boolean }
  | ({ verb: 'remove' } & ModelRefArg & Change);

type Verb = Exclude<ModelArgs['verb'], 'help'>;

export type ParsedArgs = { ok: true; args: ModelArgs } | { ok: false; reason: string };

type Options = NonNullable<ParseArgsConfig['options']>;

const HELP_OPTION: Options = { help: { type: 'boolean', short: 'h' } };
const JSON_OPTION: Options = { ...HELP_OPTION, json: { type: 'boolean', default: false } };
const CHANGE_OPTIONS: Options = {
  ...HELP_OPTION,
  note: { type: 'string' },
  by: { type: 'string' },
};

/** Each verb's options and how many positionals it takes. */
const VERBS: Record<Verb, { options: Options; positionals: string }> = {
  list: { options: JSON_OPTION, positionals: '' },
  show: { options: JSON_OPTION, positionals: 'ID[@VERSION]' },
  add: { options: { ...CHANGE_OPTIONS, id: { type: 'string' } }, positionals: 'DIR' },
  rollout: {
    options: { ...CHANGE_OPTIONS, percent: { type: 'string' }, shadow: { type: 'string' } },
    positionals: 'ID@VERSION',
  },
  promote: { options: CHANGE_OPTIONS, positionals: 'ID@VERSION' },
  rollback: { options: CHANGE_OPTIONS, positionals: 'ID' },
  history: { options: JSON_OPTION, positionals: 'ID' },
  remove: { options: CHANGE_OPTIONS, positionals: 'ID@VERSION' },
};

const isVerb = (word: string): word is Verb => Object.hasOwn(VERBS, word);

/** Plain decimals only: no sign, exponent, hex or blank, which Number() would take. */
const DECIMAL = /^\d+(\.\d+)?$/;

const idSchema = modelEntrySchema.shape.id;
const versionSchema = modelEntrySchema.shape.version;

class UsageError extends Error {}

function modelId(text: string, what: string, hint = ''): string {
  if (!idSchema.safeParse(text).success) {
    throw new UsageError(
      `${what} "${text}" is not a model id (lowercase letters, digits and -, at most 64)${hint}`,
    );
  }
  return text;
}

function modelRef(text: string, versionRequired: boolean): { id: string; version: string | null } {
  const at = text.indexOf('@');
  if (at === -1) {
    if (versionRequired) throw new UsageError(`"${text}" is not ID@VERSION`);
    return { id: modelId(text, 'model'), version: null };
  }
  const version = text.slice(at + 1);
  if (!versionSchema.safeParse(version).success) {
    throw new UsageError(`"${text}" is not ID@VERSION: "${version}" is not a version`);
  }
  return { id: modelId(text.slice(0, at), 'model'), version };
}

function percentOf(text: string | undefined): number {
  if (text === undefined) throw new UsageError('rollout needs --percent P');
  const percent = Number(text);
  if (!DECIMAL.test(text) || !isPercentStep(percent)) {
    throw new UsageError(`--percent ${text}: give 0 to 100 in steps of 0.001`);
  }
  return percent;
}

function shadowOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const rate = Number(text);
  if (!DECIMAL.test(text) || !isShadowRate(rate)) {
    throw new UsageError(`--shadow ${text}: give 0 to 1`);
  }
  return rate;
}

function changeOf(values: Record<string, unknown>, defaultActor: string): Change {
  const by = values.by as string | undefined;
  if (by !== undefined && by.trim() === '') throw new UsageError('--by needs a name');
  const note = values.note as string | undefined;
  return {
    actor: by?.trim() ?? defaultActor,
    note: note === undefined || note === '' ? null : note,
  };
}

/**
 * `cwd` is where the user typed the command: npm runs scripts in the package's folder, so
 * the process's own directory is not it (`INIT_CWD` is).
 */
export function parseModelArgs(
  argv: readonly string[],
  defaultActor: string,
  cwd: string,
): ParsedArgs {
  try {
    return { ok: true, args: parse(argv, defaultActor, cwd) };
  } catch (error) {
    if (error instanceof UsageError) return { ok: false, reason: error.message };
    // node:util's parseArgs reports unknown flags and missing values as TypeErrors.
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

function parse(argv: readonly string[], defaultActor: string, cwd: string): ModelArgs {
  const [word, ...rest] = argv;
  if (word === undefined) throw new UsageError('no verb given');
  if (word === 'help' || word === '--help' || word === '-h') return { verb: 'help' };
  if (!isVerb(word)) throw new UsageError(`unknown verb "${word}"`);
  const { options, positionals: wanted } = VERBS[word];
  const { values, positionals } = parseArgs({
    args: [...rest],
    options,
    allowPositionals: true,
    strict: true,
  });
  // Only a flag the parser read as one: `--note=-h` is a note, not a request for help.
  if (values.help === true) return { verb: 'help' };
  const expected = wanted === '' ? 0 : 1;
  if (positionals.length !== expected) {
    throw new UsageError(
      expected === 0
        ? `${word} takes no argument, got ${positionals.join(' ')}`
        : `${word} takes ${wanted}, got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`,
    );
  }
  const [first = ''] = positionals;
  const json = values.json === true;

  switch (word) {
    case 'list':
      return { verb: word, json };
    case 'show': {
      const ref = modelRef(first, false);
      return { verb: word, ...ref, json };
    }
    case 'history':
      return { verb: word, id: modelId(first, 'model'), json };
    case 'add': {
      const dir = resolve(cwd, first);
      const id =
        values.id === undefined
          ? modelId(basename(dir), 'the folder name', '; give one with --id')
          : modelId(values.id as string, '--id');
      return { verb: word, dir, id, ...changeOf(values, defaultActor) };
    }
    case 'rollback':
      return { verb: word, id: modelId(first, 'model'), ...changeOf(values, defaultActor) };
    case 'rollout': {
      const ref = modelRef(first, true) as ModelRefArg;
      const percent = percentOf(values.percent as string | undefined);
      const shadowRate = shadowOf(values.shadow as string | undefined);
      return { verb: word, ...ref, percent, shadowRate, ...changeOf(values, defaultActor) };
    }
    case 'promote':
    case 'remove': {
      const ref = modelRef(first, true) as ModelRefArg;
      return { verb: word, ...ref, ...changeOf(values, defaultActor) };
    }
  }
}
