import type { AppError } from '../core/errors';
import type { ModelCard } from '../core/model-card';
import type { ModelFile } from '../core/model-manifest';
import type {
  CandidateChannel,
  LogEntry,
  ModelState,
  RegisteredVersion,
} from '../server/registry/registry';

/**
 * What `npm run model` prints: text for people by default, and with `--json` the same facts
 * as one JSON document for scripts. Pure: the commands fetch, these only render.
 */

export function errorLine(error: AppError): string {
  return `error ${error.code}: ${error.message}${error.detail ? ` (${error.detail})` : ''}\n`;
}

export function asJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** "5 % of installations, shadow 0.1": a candidate's figures in one phrase. */
export function candidateFigures(
  candidate: Pick<CandidateChannel, 'percent' | 'shadowRate'>,
): string {
  return `${candidate.percent} % of installations, shadow ${candidate.shadowRate}`;
}

function channelsOf(state: ModelState, version: string): string[] {
  const channels: string[] = [];
  if (state.stable === version) channels.push('stable');
  if (state.candidate?.version === version) {
    channels.push(
      `candidate (${candidateFigures(state.candidate)}, since ${state.candidate.since})`,
    );
  }
  return channels;
}

export function listJson(states: readonly ModelState[]): unknown {
  return states.map((state) => ({
    id: state.id,
    stable: state.stable,
    candidate: state.candidate,
    versions: state.versions.map(({ version, registeredAt, totalBytes, note }) => ({
      version,
      registeredAt,
      totalBytes,
      note,
    })),
  }));
}

export function listText(states: readonly ModelState[]): string {
  if (states.length === 0) return 'no model is registered\n';
  const lines: string[] = [];
  for (const state of states) {
    lines.push(state.id);
    for (const version of state.versions) {
      const channels = channelsOf(state, version.version);
      lines.push(
        [
          `  ${version.version}`,
          `registered ${version.registeredAt}`,
          channels.length === 0 ? '-' : channels.join(', '),
          ...(version.note === null ? [] : [JSON.stringify(version.note)]),
        ].join('  '),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** One stored file as `show` found it: intact, or the error reading it back gave. */
export interface CheckedFile extends ModelFile {
  problem: AppError | null;
}

export function showJson(
  state: ModelState,
  version: RegisteredVersion,
  files: readonly CheckedFile[],
): unknown {
  return {
    id: version.id,
    version: version.version,
    stable: state.stable === version.version,
    candidate: state.candidate?.version === version.version ? state.candidate : null,
    registeredAt: version.registeredAt,
    note: version.note,
    totalBytes: version.totalBytes,
    card: version.card,
    files: files.map(({ path, bytes, sha256, problem }) => ({
      path,
      bytes,
      sha256,
      intact: problem === null,
      ...(problem === null ? {} : { problem: problem.code }),
    })),
  };
}

function cardLines(card: ModelCard): string[] {
  const { labels, input, output, calibration } = card;
  const ranges = labels.animalRanges?.map(([from, to]) => `${from}–${to}`).join(', ');
  return [
    `name         ${card.name}`,
    `description  ${card.description}`,
    `source       ${card.source}`,
    `license      ${card.license ?? 'not stated'}`,
    `labels       ${labels.count} (${labels.format}), background ${labels.backgroundIndex ?? 'none'}, animals ${ranges ?? 'all'}`,
    `input        "${input.name}" ${input.size}×${input.size}×${input.channels}, range [${input.range.join(', ')}]`,
    `output       ${output.classes} classes, ${output.isProbability ? 'probabilities' : 'scores'}`,
    `calibration  ${calibration === null ? 'none' : `temperature ${calibration.temperature}, fitted on ${calibration.fittedOn}`}`,
    `created      ${card.created ?? 'unknown'}`,
    `parent       ${card.parent ?? 'none'}`,
    ...(card.evaluation.length === 0
      ? ['evaluation   none']
      : [
          'evaluation',
          ...card.evaluation.map((e) => `  ${e.dataset}  ${e.metric} ${e.value} (n = ${e.n})`),
        ]),
    ...(card.notes === '' ? [] : [`notes        ${card.notes}`]),
  ];
}

export function showText(
  state: ModelState,
  version: RegisteredVersion,
  files: readonly CheckedFile[],
): string {
  const channels = channelsOf(state, version.version);
  const pathWidth = Math.max(...files.map((f) => f.path.length));
  const bytesWidth = Math.max(...files.map((f) => String(f.bytes).length));
  const lines = [
    `${version.id}@${version.version}`,
    `channels     ${channels.length === 0 ? 'none' : channels.join(', ')}`,
    `registered   ${version.registeredAt}${version.note === null ? '' : `  ${JSON.stringify(version.note)}`}`,
    ...cardLines(version.card),
    `files        ${version.totalBytes} bytes`,
    ...files.map(
      (f) =>
        `  ${f.path.padEnd(pathWidth)}  ${String(f.bytes).padStart(bytesWidth)}  sha256 ${f.sha256}  ${f.problem === null ? 'ok' : f.problem.code}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function detailText(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
}

export function historyText(entries: readonly LogEntry[]): string {
  if (entries.length === 0) return 'no change recorded\n';
  const actorWidth = Math.max(...entries.map((e) => e.actor.length));
  const actionWidth = Math.max(...entries.map((e) => e.action.length));
  const lines = entries.map((entry) =>
    [
      `#${entry.seq}`,
      entry.at,
      entry.actor.padEnd(actorWidth),
      entry.action.padEnd(actionWidth),
      entry.version ?? '-',
      ...(Object.keys(entry.details).length === 0 ? [] : [detailText(entry.details)]),
      ...(entry.note === null ? [] : [JSON.stringify(entry.note)]),
    ].join('  '),
  );
  return `${lines.join('\n')}\n`;
}
